import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IAlarmAction,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { SILENCE_KEYS } from '../../functions/adapters/dynamodb-table.ts';
import { ENV } from '../../functions/config.ts';
import { DETECTOR_TIMEOUT_ENV } from '../../functions/silence/ports.ts';
import { METRICS_NAMESPACE, SILENCE_SERVICE_NAME } from '../../functions/telemetry-names.ts';
import { topicKeyStatement } from './detector-function.ts';
import { createNodeFunction } from './node-function.ts';
import { scheduledErrorsAlarm, scheduleInvocation } from './scheduled-invocation.ts';

/**
 * The silence check's DynamoDB requests (functions/adapters/dynamodb-silence-store.ts): it
 * reads the registry (GetItem), the last-seen records and its state (BatchGetItem), and
 * writes only its own state items (PutItem on keys beginning `silence#checker#`).
 */
export const SILENCE_READ_ACTIONS = ['dynamodb:BatchGetItem', 'dynamodb:GetItem'] as const;

export interface SilenceCheckProps {
  readonly table: ITable;
  readonly alertTopic: ITopic;
  /** @default - the topic is not encrypted with a customer managed key */
  readonly alertTopicKey?: IKey;
  /** The detector's environment: the same rules give each sensor its silenceSeconds. */
  readonly detectorEnvironment: Readonly<Record<string, string>>;
  /**
   * The detector function's timeout: the check waits this long past a limit, as a batch may
   * have heard a sensor it has not recorded yet (docs/silence.md, "Races").
   */
  readonly detectorTimeoutSeconds: number;
  /** Minutes between checks. */
  readonly scheduleMinutes: number;
  /** Reserve this many concurrent executions (1: one check at a time). @default - none */
  readonly reservedConcurrency?: number;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** The operations topic's action: alarms on the check's errors and on missed runs. */
  readonly alarmAction: IAlarmAction;
}

/**
 * Silent sensors (docs/silence.md): a Lambda function run by an EventBridge Scheduler
 * schedule. Scheduler rather than a scheduled EventBridge rule: "Scheduled rules are a
 * legacy feature of EventBridge. ... We recommend that you use Scheduler to invoke targets on
 * a schedule." (EventBridge user guide, "Creating a scheduled rule (legacy)",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-rule-schedule.html), and
 * its free tier covers a check a minute. "EventBridge Scheduler invokes your Lambda function
 * asynchronously" (Lambda developer guide, "Invoke a Lambda function on a schedule",
 * https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge-scheduler.html); neither
 * Scheduler nor Lambda retries a failed one, since the next run delivers what it left in its
 * outbox.
 */
export class SilenceCheck extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;
  readonly schedule: CfnSchedule;
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: SilenceCheckProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Sensor anomaly detector: the scheduled silent-sensor check',
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.role.addToPolicy(
      new PolicyStatement({
        actions: [...SILENCE_READ_ACTIONS],
        resources: [props.table.tableArn],
      }),
    );
    // "dynamodb:LeadingKeys: Allows a user to access items that have a specific partition key
    // value." (AWS re:Post knowledge center, "dynamodb-table-restrict-attributes",
    // https://repost.aws/knowledge-center/dynamodb-table-restrict-attributes; DynamoDB
    // developer guide, "Using IAM policy conditions for fine-grained access control"): the
    // check writes only its own items.
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [`${SILENCE_KEYS.checkerPrefix}*`],
          },
        },
      }),
    );
    this.role.addToPolicy(
      new PolicyStatement({ actions: ['sns:Publish'], resources: [props.alertTopic.topicArn] }),
    );
    if (props.alertTopicKey !== undefined)
      this.role.addToPolicy(topicKeyStatement(this, props.alertTopicKey));

    this.function = createNodeFunction(this, 'Handler', 'silence-check', {
      memorySize: 512,
      timeout: Duration.seconds(60),
      // No reserved concurrency by default: "You can reserve up to the Unreserved account
      // concurrency value minus 100" (Lambda developer guide, "Configuring reserved
      // concurrency for a function",
      // https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html), and new
      // accounts start with a concurrency quota too low to reserve any. Two overlapping checks
      // are safe without it: each shard's state is written conditionally on the version read,
      // and a shard another check changed meanwhile is left to that check (check-silence.ts).
      ...(props.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrency }),
      // Asynchronous invocations: no retry, the next check sends what this one left.
      retryAttempts: 0,
      role: this.role,
      logGroup: this.logGroup,
      description: 'Silent-sensor check over the last-seen records (docs/silence.md)',
      environment: {
        [ENV.tableName]: props.table.tableName,
        [ENV.topicArn]: props.alertTopic.topicArn,
        ...props.detectorEnvironment,
        [DETECTOR_TIMEOUT_ENV]: String(props.detectorTimeoutSeconds),
        POWERTOOLS_SERVICE_NAME: SILENCE_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is pinned on purpose, as for the detector function.',
    });

    const minutes = props.scheduleMinutes;
    this.schedule = scheduleInvocation(this, this.function, {
      minutes,
      description: `Silent-sensor check every ${minutes} min (docs/silence.md)`,
      invokes: 'the silent-sensor check',
    });

    const period = Duration.minutes(Math.max(5, props.scheduleMinutes));
    this.alarms = [
      scheduledErrorsAlarm(
        this,
        this.function,
        minutes,
        'The silence check failed (DynamoDB, SNS or a sink); its undelivered alerts go out with the next check. Check its log group.',
      ),
      // No invocation is the failure here: missing data breaches.
      new Alarm(this, 'NotRunning', {
        metric: this.function.metricInvocations({ period, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 3,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.BREACHING,
        alarmDescription:
          'The silence check has not run for three periods: check its EventBridge Scheduler schedule and the function.',
      }),
    ];
    for (const a of this.alarms) {
      a.addAlarmAction(props.alarmAction);
      a.addOkAction(props.alarmAction);
    }
  }
}
