import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { Alarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DIGEST_KEYS } from '../../functions/adapters/dynamodb-table.ts';
import { ENV } from '../../functions/config.ts';
import { DETECTOR_TIMEOUT_ENV } from '../../functions/silence/ports.ts';
import { DIGEST_SERVICE_NAME, METRICS_NAMESPACE } from '../../functions/telemetry-names.ts';
import { topicKeyStatement } from './detector-function.ts';
import { createNodeFunction } from './node-function.ts';
import { scheduledErrorsAlarm, scheduleInvocation } from './scheduled-invocation.ts';

export interface DigestScheduleProps {
  readonly table: ITable;
  readonly alertTopic: ITopic;
  /** @default - the topic is not encrypted with a customer managed key */
  readonly alertTopicKey?: IKey;
  /** The detector's environment: its table, topic and DIGEST_PERIOD_SECONDS. */
  readonly detectorEnvironment: Readonly<Record<string, string>>;
  /** The digest period in seconds (the detector's DIGEST_PERIOD_SECONDS, above 0). */
  readonly periodSeconds: number;
  /** A period's digest waits this long past its end: a batch commits up to its timeout late. */
  readonly detectorTimeoutSeconds: number;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** The operations topic's action: alarms on the digest function's errors. */
  readonly alarmAction: IAlarmAction;
}

/**
 * Email digests by time (docs/alerting.md): a Lambda function run by an EventBridge Scheduler
 * schedule once per period (at least every minute), as the silence check is. It reads the
 * period's contributions (Query) and the partitions' roots (BatchGetItem), and writes only its
 * cursor.
 */
export class DigestSchedule extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: LogGroup;
  readonly schedule: CfnSchedule;
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: DigestScheduleProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Sensor anomaly detector: the scheduled email digest',
    });
    role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:BatchGetItem'],
        resources: [props.table.tableArn],
      }),
    );
    // "dynamodb:LeadingKeys: Allows a user to access items that have a specific partition key
    // value." (DynamoDB developer guide, "Using IAM policy conditions for fine-grained access
    // control"): the digest function writes its cursor and nothing else.
    role.addToPolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [DIGEST_KEYS.cursor] },
        },
      }),
    );
    role.addToPolicy(
      new PolicyStatement({ actions: ['sns:Publish'], resources: [props.alertTopic.topicArn] }),
    );
    if (props.alertTopicKey !== undefined)
      role.addToPolicy(topicKeyStatement(this, props.alertTopicKey));

    this.function = createNodeFunction(this, 'Handler', 'digest', {
      memorySize: 512,
      timeout: Duration.seconds(60),
      // No reserved concurrency, as for the silence check: a new account's concurrency quota
      // may leave none to reserve. Two overlapping runs (a run a period, 60 s at most) could
      // both publish a period before one loses the cursor's condition: at least once.
      // Asynchronous invocations: no retry, the next run sends the periods this one left.
      retryAttempts: 0,
      role,
      logGroup: this.logGroup,
      description: 'One email digest per period (docs/alerting.md)',
      environment: {
        [ENV.tableName]: props.table.tableName,
        [ENV.topicArn]: props.alertTopic.topicArn,
        ...props.detectorEnvironment,
        [DETECTOR_TIMEOUT_ENV]: String(props.detectorTimeoutSeconds),
        POWERTOOLS_SERVICE_NAME: DIGEST_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is pinned on purpose, as for the detector function.',
    });

    const minutes = digestScheduleMinutes(props.periodSeconds);
    this.schedule = scheduleInvocation(this, this.function, {
      minutes,
      description: `Email digest of each ${props.periodSeconds} s period (docs/alerting.md)`,
      invokes: 'the email digest',
    });

    this.alarms = [
      scheduledErrorsAlarm(
        this,
        this.function,
        minutes,
        'The email digest failed (DynamoDB or SNS); the next run sends the periods it left. Check its log group.',
      ),
    ];
    for (const a of this.alarms) {
      a.addAlarmAction(props.alarmAction);
      a.addOkAction(props.alarmAction);
    }
  }
}

/** A run per period, at least one a minute (Scheduler's finest rate). */
export function digestScheduleMinutes(periodSeconds: number): number {
  return Math.max(1, Math.floor(periodSeconds / 60));
}
