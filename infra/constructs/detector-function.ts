import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { CfnFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ENV } from '../../functions/config.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/telemetry-names.ts';
import { createNodeFunction } from './node-function.ts';

/**
 * Exactly the DynamoDB requests the function's stores send (functions/adapters/dynamodb/
 * partition-store.ts and the silence and rules stores): PutItem for pages and the
 * conditional root write, BatchGetItem for reads, GetItem for single items (the rules
 * document; the list of open partitions of window-close evaluation).
 * test/infra checks this list against the adapters' commands.
 */
export const DYNAMODB_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
] as const;

export interface DetectorFunctionProps {
  readonly table: ITable;
  readonly alertTopic: ITopic;
  /** The key that encrypts the alert topic: publishing needs to use it. @default - none */
  readonly alertTopicKey?: IKey;
  /** Detection settings as environment variables, from the deploy config. */
  readonly detectorEnvironment: Readonly<Record<string, string>>;
  readonly memorySizeMb: number;
  readonly timeoutSeconds: number;
  readonly logRetention: RetentionDays;
  /** Applies to the log group. */
  readonly removalPolicy: RemovalPolicy;
  /** X-Ray active tracing, with the Powertools Tracer in the handler. @default false */
  readonly tracing?: boolean;
  /** Powertools service name: the `service` dimension of the metrics. @default SERVICE_NAME */
  readonly serviceName?: string;
}

/**
 * kms:GenerateDataKey and kms:Decrypt on a topic's key, for SNS requests only: "The
 * kms:ViaService condition key limits use of an AWS KMS key to requests from specified AWS
 * services" (AWS KMS developer guide, "kms:ViaService",
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
 * The publisher needs the key for server-side encryption
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html), and only through SNS.
 */
export function topicKeyStatement(scope: Construct, key: IKey): PolicyStatement {
  return new PolicyStatement({
    actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    resources: [key.keyArn],
    conditions: {
      StringEquals: { 'kms:ViaService': `sns.${Stack.of(scope).region}.amazonaws.com` },
    },
  });
}

/**
 * The detector Lambda: bundled by the local esbuild (never Docker), Node.js 22 on ARM64,
 * its own log group, and a role that can do exactly what the handler does.
 */
export class DetectorFunction extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: DetectorFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    // An explicit role instead of the default one: the default attaches the
    // AWSLambdaBasicExecutionRole managed policy, which may write to any log group.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description:
        'Sensor anomaly detector: reads Kafka, keeps windows in DynamoDB, alerts via SNS',
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.role.addToPolicy(
      new PolicyStatement({
        actions: [...DYNAMODB_ACTIONS],
        resources: [props.table.tableArn],
      }),
    );
    this.role.addToPolicy(
      new PolicyStatement({
        // PublishBatch is authorized by sns:Publish.
        actions: ['sns:Publish'],
        resources: [props.alertTopic.topicArn],
      }),
    );
    if (props.alertTopicKey !== undefined)
      this.role.addToPolicy(topicKeyStatement(this, props.alertTopicKey));

    this.function = createNodeFunction(this, 'Handler', 'detector', {
      memorySize: props.memorySizeMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      description: 'Sliding-window anomaly detection for Kafka sensor readings',
      environment: {
        [ENV.tableName]: props.table.tableName,
        [ENV.topicArn]: props.alertTopic.topicArn,
        ...props.detectorEnvironment,
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_TRACE_ENABLED: String(props.tracing ?? false),
        // Stack traces through the bundle's source map, i.e. in functions/**/*.ts. "--enable-
        // source-maps enables caching of Source Maps and makes a best effort to report stack
        // traces relative to the original source file" (Node.js CLI documentation,
        // https://nodejs.org/api/cli.html#--enable-source-maps); its cost is on Error.stack
        // access only, which this handler does not do on its hot path.
        NODE_OPTIONS: '--enable-source-maps',
      },
    });

    if (props.tracing === true) this.enableTracing();
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is pinned on purpose: it is the runtime the handler, its dependencies and the AWS SDK pin are tested for; a newer runtime is a deliberate upgrade.',
    });
  }

  /**
   * X-Ray active tracing, off by default: "X-Ray tracing is currently not supported for Lambda
   * functions with Amazon MSK, self-managed Apache Kafka ... event source mappings" (Lambda
   * developer guide, "Visualize Lambda function invocations using AWS X-Ray",
   * https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html), so it serves invocations
   * through the Invoke API (the LocalStack poller, manual tests). Set on the L1 resource, with
   * the two X-Ray actions in a policy of their own: they take no resource-level permissions,
   * and the cdk-nag acknowledgement then covers that statement only.
   */
  private enableTracing(): void {
    const policy = new Policy(this, 'TracingPolicy', {
      statements: [
        new PolicyStatement({
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        }),
      ],
    });
    policy.attachToRole(this.role);
    (this.function.node.defaultChild as CfnFunction).tracingConfig = { mode: 'Active' };
    this.function.node.addDependency(policy);
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'xray:PutTraceSegments and xray:PutTelemetryRecords take no resource-level permissions.',
    });
  }
}
