import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ENV } from '../../functions/config.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/telemetry-names.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The Lambda entry; the same module the local pipeline and tests build handlers from. */
const HANDLER_ENTRY = join(REPO_ROOT, 'functions', 'detector', 'handler.ts');

/**
 * Exactly the DynamoDB requests the function's stores send (functions/adapters/dynamodb/
 * partition-store.ts and the silence and rules stores): PutItem for pages and the
 * conditional root write, BatchGetItem for reads, GetItem for single items (the rules
 * document). test/infra checks this list against the adapters' commands.
 */
export const DYNAMODB_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
] as const;

export interface DetectorFunctionProps {
  readonly table: ITable;
  readonly alertTopic: ITopic;
  /** The key that encrypts the alert topic: publishing needs to use it. */
  readonly alertTopicKey: IKey;
  /** Detection settings as environment variables, from the deploy config. */
  readonly detectorEnvironment: Readonly<Record<string, string>>;
  readonly memorySizeMb: number;
  readonly timeoutSeconds: number;
  readonly logRetention: RetentionDays;
  /** Applies to the log group. */
  readonly removalPolicy: RemovalPolicy;
  /** X-Ray active tracing, with the Powertools Tracer in the handler. @default false */
  readonly tracing?: boolean;
}

/**
 * The detector Lambda: bundled by the local esbuild (never Docker), Node.js 22 on ARM64,
 * its own log group, and a role that can do exactly what the handler does.
 */
export class DetectorFunction extends Construct {
  readonly function: NodejsFunction;
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
    this.role.addToPolicy(
      new PolicyStatement({
        // SNS server-side encryption: the publisher needs a data key from the topic's key.
        // https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.alertTopicKey.keyArn],
      }),
    );

    this.function = new NodejsFunction(this, 'Handler', {
      entry: HANDLER_ENTRY,
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySizeMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      description: 'Sliding-window anomaly detection for Kafka sensor readings',
      environment: {
        [ENV.tableName]: props.table.tableName,
        [ENV.topicArn]: props.alertTopic.topicArn,
        ...props.detectorEnvironment,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_TRACE_ENABLED: String(props.tracing ?? false),
        // Stack traces through the bundle's source map, i.e. in functions/**/*.ts. "--enable-
        // source-maps enables caching of Source Maps and makes a best effort to report stack
        // traces relative to the original source file" (Node.js CLI documentation,
        // https://nodejs.org/api/cli.html#--enable-source-maps); its cost is on Error.stack
        // access only, which this handler does not do on its hot path.
        NODE_OPTIONS: '--enable-source-maps',
      },
      // Active tracing makes the CDK add xray:PutTraceSegments and xray:PutTelemetryRecords
      // to the role (acknowledged for cdk-nag below). Off by default: "X-Ray tracing is
      // currently not supported for Lambda functions with Amazon MSK, self-managed Apache
      // Kafka ... event source mappings" (Lambda developer guide, "Visualize Lambda function
      // invocations using AWS X-Ray", https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html),
      // so it serves invocations through the Invoke API (the LocalStack poller, manual tests).
      ...(props.tracing === true ? { tracing: Tracing.ACTIVE } : {}),
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        // Ship the SDK version the lockfile pins and the tests ran against, not the
        // runtime's (which changes under us).
        bundleAwsSDK: true,
        minify: true,
        keepNames: true,
        // index.mjs.map next to the bundle; without the sources' text, mappings only.
        sourceMap: true,
        sourcesContent: false,
        // Some CommonJS dependencies call require() for Node built-ins; ESM output needs it.
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });

    if (props.tracing === true) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Added by Tracing.ACTIVE: xray:PutTraceSegments and xray:PutTelemetryRecords take no resource-level permissions.',
      });
    }
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is pinned on purpose: it is the runtime the handler, its dependencies and the AWS SDK pin are tested for; a newer runtime is a deliberate upgrade.',
    });
  }
}
