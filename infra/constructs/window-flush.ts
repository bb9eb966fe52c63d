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
import { ENV } from '../../functions/config.ts';
import { METRICS_NAMESPACE, WINDOW_FLUSH_SERVICE_NAME } from '../../functions/telemetry-names.ts';
import { topicKeyStatement } from './detector-function.ts';
import { createNodeFunction } from './node-function.ts';
import { scheduledErrorsAlarm, scheduleInvocation } from './scheduled-invocation.ts';

export interface WindowFlushProps {
  readonly table: ITable;
  readonly alertTopic: ITopic;
  /** @default - the topic is not encrypted with a customer managed key */
  readonly alertTopicKey?: IKey;
  /** The detector's environment: the same windows, lateness, detectors and rules. */
  readonly detectorEnvironment: Readonly<Record<string, string>>;
  /** Minutes between flushes. */
  readonly scheduleMinutes: number;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** The operations topic's action: alarms on the flush's errors. */
  readonly alarmAction: IAlarmAction;
}

/**
 * The scheduled flush of window-close evaluation (docs/state.md, "Open windows"): a Lambda
 * function run by an EventBridge Scheduler schedule (Scheduler rather than a scheduled rule,
 * for the reasons the silence check gives: "Scheduled rules are a legacy feature of
 * EventBridge. ... We recommend that you use Scheduler to invoke targets on a schedule.",
 * EventBridge user guide). It closes the windows of partitions gone quiet, writing their roots
 * with the batch path's own conditional write, so it needs the detector's page and root
 * writes (PutItem on keys beginning `root#` and `page#`) and nothing else.
 */
export class WindowFlush extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;
  readonly schedule: CfnSchedule;
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: WindowFlushProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Sensor anomaly detector: the scheduled window flush (window-close evaluation)',
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'],
        resources: [props.table.tableArn],
      }),
    );
    // "dynamodb:LeadingKeys: Allows a user to access items that have a specific partition key
    // value." (DynamoDB developer guide, "Using IAM policy conditions for fine-grained access
    // control"): the flush writes partition roots and their pages, nothing else.
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['root#*', 'page#*'] },
        },
      }),
    );
    this.role.addToPolicy(
      new PolicyStatement({ actions: ['sns:Publish'], resources: [props.alertTopic.topicArn] }),
    );
    if (props.alertTopicKey !== undefined)
      this.role.addToPolicy(topicKeyStatement(this, props.alertTopicKey));

    this.function = createNodeFunction(this, 'Handler', 'window-flush', {
      memorySize: 1024,
      timeout: Duration.seconds(60),
      // Asynchronous invocations: no retry, the next flush closes what this one left.
      retryAttempts: 0,
      role: this.role,
      logGroup: this.logGroup,
      description: 'Closes the windows of quiet partitions (window-close evaluation)',
      environment: {
        [ENV.tableName]: props.table.tableName,
        [ENV.topicArn]: props.alertTopic.topicArn,
        ...props.detectorEnvironment,
        POWERTOOLS_SERVICE_NAME: WINDOW_FLUSH_SERVICE_NAME,
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
      description: `Window flush every ${minutes} min (window-close evaluation, docs/state.md)`,
      invokes: 'the window flush',
    });

    this.alarms = [
      scheduledErrorsAlarm(
        this,
        this.function,
        minutes,
        'The window flush failed (DynamoDB, SNS or a sink): windows of quiet partitions close at the next flush or with their next reading. Check its log group.',
      ),
    ];
    for (const a of this.alarms) {
      a.addAlarmAction(props.alarmAction);
      a.addOkAction(props.alarmAction);
    }
  }
}
