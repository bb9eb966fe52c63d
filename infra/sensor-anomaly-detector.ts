import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { Alarm, Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RULES_ITEM_KEY_VALUE } from '../functions/adapters/dynamodb-table.ts';
import { METRIC, SERVICE_NAME } from '../functions/telemetry-names.ts';
import { AlertTopics } from './constructs/alert-topics.ts';
import { AnomalySinks, anomalySinksProps } from './constructs/anomaly-sinks.ts';
import { AwsEndpoints } from './constructs/aws-endpoints.ts';
import { createDeadLetterQueue } from './constructs/dead-letter-queue.ts';
import { DeliveryAlarms } from './constructs/delivery-alarms.ts';
import { DetectorFunction } from './constructs/detector-function.ts';
import { checkUniqueNames, type TakenNames } from './constructs/detector-names.ts';
import { addDetectorOutputs } from './constructs/detector-outputs.ts';
import type { DigestSchedule } from './constructs/digest-schedule.ts';
import { FeedbackApi, feedbackItemsGrant } from './constructs/feedback-api.ts';
import type { KafkaTrigger } from './constructs/kafka-trigger.ts';
import { wireKafka } from './constructs/kafka-wiring.ts';
import { Observability, serviceMetric } from './constructs/observability.ts';
import type { Repartition } from './constructs/repartition.ts';
import { wireScheduledFunctions } from './constructs/scheduled-functions.ts';
import { SchemaRegistryAccess } from './constructs/schema-registry-access.ts';
import type { SilenceCheck } from './constructs/silence-check.ts';
import type { WindowFlush } from './constructs/window-flush.ts';
import { createWindowTable, type TableCapacityProps } from './constructs/window-table.ts';
import { detectionEnvironment } from './detection.ts';
import { SensorAnomalyDetectorError } from './errors.ts';
import {
  consumerGroupIds,
  defaultConsumerGroupId,
  type KafkaSourceConfig,
} from './kafka-source.ts';
import { detectorPropsProblems } from './props/check-detector-props.ts';
import { DETECTOR_DEFAULTS, type SensorAnomalyDetectorProps } from './props/detector-props.ts';
import { networkPlan } from './props/network-plan.ts';
import { problemsError } from './props/problems.ts';

export type {
  AnomaliesTopicProps,
  DetectorNetworkProps,
  SensorAnomalyDetectorProps,
  VpcAwsAccess,
} from './props/detector-props.ts';
export { DETECTOR_DEFAULTS, SensorAnomalyDetectorError, type TableCapacityProps };

/** The names the detectors of a stack took. */
const taken = (detectors: readonly SensorAnomalyDetector[]): TakenNames[] =>
  detectors.map((d) => ({
    path: d.node.path,
    consumerGroups: d.kafkaSource === undefined ? [] : consumerGroupIds(d.kafkaSource),
    dashboardName: d.dashboardName,
  }));

/** The detectors of each stack, in creation order: the first keeps the plain names. */
const DETECTORS = new WeakMap<Stack, SensorAnomalyDetector[]>();

/**
 * Kafka sensor readings → detector Lambda → DynamoDB windows, SNS alerts (per-sensor alerts
 * for SMS and machines, one digest per batch for email), CloudWatch alarms and dashboard.
 * Several may share a stack: each further one gets its own consumer groups, metrics service,
 * dashboard and output names (its construct path added).
 */
export class SensorAnomalyDetector extends Construct {
  /** The detector Lambda function (attach your own trigger here without `kafkaSource`). */
  readonly function: LambdaFunction;
  /** The window table. */
  readonly table: ITable;
  /** Where anomaly alerts go. */
  readonly alertTopic: ITopic;
  /** Where the operations alarms go. */
  readonly opsTopic: ITopic;
  readonly deadLetterQueue: Queue;
  /** The operations alarms (dead letters, errors, lag, rejected records, no records, ...). */
  readonly alarms: readonly Alarm[];
  /** The Powertools service name: the `service` dimension of the function's metrics. */
  readonly serviceName: string;
  readonly detector: DetectorFunction;
  readonly topics: AlertTopics;
  readonly trigger?: KafkaTrigger;
  readonly observability: Observability;
  /** The validated Kafka source (consumer groups, topics, auth), when there is a mapping. */
  readonly kafkaSource?: KafkaSourceConfig;
  /** The scheduled silent-sensor check (docs/silence.md). */
  readonly silenceCheck?: SilenceCheck;
  /** The scheduled email digest, unless digestPeriodSeconds is 0 (docs/alerting.md). */
  readonly digestSchedule?: DigestSchedule;
  /** Alarms on SMS spend and failed deliveries of the alert topic (docs/alerting.md). */
  readonly deliveryAlarms: DeliveryAlarms;
  /** The scheduled window flush, with `evaluation: 'window-close'`. */
  readonly windowFlush?: WindowFlush;
  /** The construct path inside the stack, for names; undefined for a stack's first detector. */
  private readonly nameSuffix: string | undefined;
  /** The repartition step, with `repartition` (docs/repartition.md). */
  readonly repartition?: Repartition;
  /** The feedback API, with `feedbackApi` (docs/feedback.md). */
  readonly feedbackApi?: FeedbackApi;
  /** The VPC endpoints created with `network.awsAccess: 'create-endpoints'`. */
  readonly endpoints?: AwsEndpoints;

  constructor(scope: Construct, id: string, props: SensorAnomalyDetectorProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const siblings = DETECTORS.get(stack) ?? [];
    this.nameSuffix =
      siblings.length === 0
        ? undefined
        : this.node.scopes
            .slice(stack.node.scopes.length)
            .map((c) => c.node.id)
            .join('-')
            .replace(/[^A-Za-z0-9-]/g, '-');
    this.serviceName =
      this.nameSuffix === undefined ? SERVICE_NAME : `${SERVICE_NAME}-${this.nameSuffix}`;

    // The props are checked here, before anything is built: one line per problem.
    const defaultGroup = defaultConsumerGroupId(stack.stackName, this.nameSuffix);
    const source = props.kafkaSource?._config(defaultGroup);
    const problems = detectorPropsProblems(props, { stackName: stack.stackName, source });
    if (problems.length > 0) throw problemsError(this.node.path, problems);
    const plan = networkPlan(props, source);
    const detection = detectionEnvironment(props.detection, { stackName: stack.stackName });
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention =
      props.logRetention ?? (DETECTOR_DEFAULTS.logRetentionDays as RetentionDays);

    this.table =
      props.table ??
      createWindowTable(this, props.tableCapacity, props.tableDeletionProtection, removalPolicy);
    this.topics = new AlertTopics(this, 'Topics', {
      alertEmails: props.alertEmails ?? [],
      alertSmsNumbers: props.alertSmsNumbers ?? [],
      smsCriticalOnly: props.smsCriticalOnly ?? true,
      opsEmails: props.opsEmails ?? [],
      ...(props.alertTopic === undefined ? {} : { alertTopic: props.alertTopic }),
    });
    this.alertTopic = this.topics.alertTopic;
    this.opsTopic = this.topics.opsTopic;
    const alertTopicKey = props.alertTopic === undefined ? this.topics.key : props.alertTopicKey;

    this.detector = new DetectorFunction(this, 'Detector', {
      table: this.table,
      alertTopic: this.alertTopic,
      ...(alertTopicKey === undefined ? {} : { alertTopicKey }),
      detectorEnvironment: detection.environment,
      memorySizeMb: props.memorySizeMb ?? DETECTOR_DEFAULTS.memorySizeMb,
      timeoutSeconds: props.timeoutSeconds ?? DETECTOR_DEFAULTS.timeoutSeconds,
      logRetention,
      removalPolicy,
      tracing: props.tracing ?? false,
      serviceName: this.serviceName,
    });
    this.function = this.detector.function;
    new SchemaRegistryAccess(this, 'Readings', {
      function: this.detector.function,
      ...(props.schemaRegistry === undefined ? {} : { registry: props.schemaRegistry }),
      ...(props.readingFields === undefined ? {} : { fields: props.readingFields }),
      ...(plan.network === undefined ? {} : { network: plan.network }),
    });

    this.deadLetterQueue = createDeadLetterQueue(this, removalPolicy);

    if (source !== undefined) {
      const kafka = wireKafka(this, props, {
        function: this.function,
        source,
        plan,
        deadLetterQueue: this.deadLetterQueue,
        removalPolicy,
        checkGroups: (read) =>
          checkUniqueNames(this, taken(siblings), consumerGroupIds(read), 'consumer group'),
      });
      this.repartition = kafka.repartition;
      this.kafkaSource = kafka.source;
      this.trigger = kafka.trigger;
    }

    if (plan.network?.awsAccess === 'create-endpoints' && plan.apis.length > 0)
      this.endpoints = new AwsEndpoints(this, 'AwsEndpoints', {
        network: plan.network,
        apis: plan.apis,
        routeTableIds: plan.network.routeTableIds ?? [],
        ...(plan.network.endpointSubnetIds === undefined
          ? {}
          : { endpointSubnetIds: plan.network.endpointSubnetIds }),
      });
    const sinksProps = anomalySinksProps(props, {
      function: this.function,
      ...(this.kafkaSource === undefined ? {} : { source: this.kafkaSource }),
      ...(this.trigger?.createdSecret === undefined ? {} : { secret: this.trigger.createdSecret }),
      ...(plan.network === undefined ? {} : { network: plan.network }),
    });
    if (sinksProps !== undefined) new AnomalySinks(this, 'AnomalySinks', sinksProps);

    // The silence check, the window flush and the email digest, each when the props want it.
    const scheduled = wireScheduledFunctions(this, props, {
      table: this.table,
      alertTopic: this.alertTopic,
      ...(alertTopicKey === undefined ? {} : { alertTopicKey }),
      opsTopic: this.topics.opsTopic,
      detectorEnvironment: detection.environment,
      logRetention,
      removalPolicy,
      ...(sinksProps === undefined ? {} : { sinksProps }),
    });
    if (scheduled.silenceCheck !== undefined) this.silenceCheck = scheduled.silenceCheck;
    if (scheduled.windowFlush !== undefined) this.windowFlush = scheduled.windowFlush;
    if (scheduled.digestSchedule !== undefined) this.digestSchedule = scheduled.digestSchedule;
    this.deliveryAlarms = new DeliveryAlarms(this, 'DeliveryAlarms', {
      alertTopic: this.alertTopic,
      smsMonthlySpendLimitUsd:
        props.smsMonthlySpendLimitUsd ?? DETECTOR_DEFAULTS.smsMonthlySpendLimitUsd,
      alarmAction: new SnsAction(this.topics.opsTopic),
    });

    const dashboardName =
      props.dashboardName ??
      (this.nameSuffix === undefined ? stack.stackName : `${stack.stackName}-${this.nameSuffix}`);
    checkUniqueNames(this, taken(siblings), [dashboardName], 'dashboard name');
    this.observability = new Observability(this, 'Observability', {
      function: this.function,
      logGroup: this.detector.logGroup,
      deadLetterQueue: this.deadLetterQueue,
      opsTopic: this.topics.opsTopic,
      offsetLagThresholdRecords:
        props.alarmOffsetLagRecords ?? DETECTOR_DEFAULTS.alarmOffsetLagRecords,
      rejectedThresholdPercent:
        props.alarmRejectedPercent ?? DETECTOR_DEFAULTS.alarmRejectedPercent,
      noRecordsMinutes: props.alarmNoRecordsMinutes ?? DETECTOR_DEFAULTS.alarmNoRecordsMinutes,
      dashboardName,
      serviceName: this.serviceName,
    });
    this.alarms = [
      ...this.observability.alarms,
      ...(this.silenceCheck?.alarms ?? []),
      ...(this.digestSchedule?.alarms ?? []),
      ...this.deliveryAlarms.alarms,
      ...(this.windowFlush?.alarms ?? []),
    ];
    if (props.feedbackApi === true)
      this.feedbackApi = new FeedbackApi(this, 'FeedbackApi', {
        table: this.table,
        logRetention,
        removalPolicy,
      });
    DETECTORS.set(stack, [...siblings, this]);
  }

  /** @deprecated use `function` */
  get detectorFunction(): LambdaFunction {
    return this.function;
  }

  /** The dashboard's name, unique per detector. */
  get dashboardName(): string {
    return this.observability.dashboard.dashboardName;
  }

  /**
   * Read the window table's items (windows, learned state, journals, rules, silence records):
   * dynamodb:BatchGetItem, GetItem, Query, Scan, ConditionCheckItem, DescribeTable.
   */
  grantReadState(grantee: IGrantable): Grant {
    return this.table.grantReadData(grantee);
  }

  /**
   * Read and write the rules document that the function follows while it runs (docs/rules.md,
   * `npm run rules -- put`): GetItem and PutItem on that one item, by its partition key.
   */
  grantWriteRules(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resourceArns: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [RULES_ITEM_KEY_VALUE] },
      },
    });
  }

  /**
   * Give verdicts on alerts (docs/feedback.md): `npm run feedback`'s requests (Query, PutItem,
   * DeleteItem on the verdicts' items, by their partition key) and, with `feedbackApi`, a call
   * of the feedback API's URL.
   */
  grantFeedback(grantee: IGrantable): Grant {
    const items = feedbackItemsGrant(grantee, this.table);
    return this.feedbackApi === undefined
      ? items
      : items.combine(this.feedbackApi.grantInvoke(grantee));
  }

  /** Publish to the alert topic, as the function does (a consumer's own test alerts). */
  grantPublishAlerts(grantee: IGrantable): Grant {
    return this.alertTopic.grantPublish(grantee);
  }

  /**
   * One of the function's metrics (functions/telemetry-names.ts `METRIC`), with this
   * detector's `service` dimension. @default statistic Sum, period 5 minutes
   */
  metric(metricName: string, props: MetricOptions = {}): Metric {
    return serviceMetric(metricName, 'Sum', Duration.minutes(5), this.serviceName).with(props);
  }

  /** Kafka records that reached the function. */
  metricRecordsReceived(props?: MetricOptions): Metric {
    return this.metric(METRIC.recordsReceived, props);
  }

  /** Records rejected as invalid (not a reading, bad value, ...). */
  metricRecordsRejected(props?: MetricOptions): Metric {
    return this.metric(METRIC.recordsRejected, props);
  }

  /** Anomalies found. */
  metricAnomalies(props?: MetricOptions): Metric {
    return this.metric(METRIC.anomalies, props);
  }

  /** Alerts published (anomalies not held back by the cooldown). */
  metricNotificationsSent(props?: MetricOptions): Metric {
    return this.metric(METRIC.notificationsSent, props);
  }

  /** Milliseconds per batch, as the function measures it. @default statistic p99 */
  metricBatchDuration(props?: MetricOptions): Metric {
    return this.metric(METRIC.batchDurationMs, { statistic: 'p99', ...props });
  }

  /** Records the mapping is behind, Lambda's OffsetLag. @default statistic Maximum */
  metricOffsetLag(props?: MetricOptions): Metric {
    return this.function.metric('OffsetLag', {
      statistic: 'Maximum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** Batches the mapping gave up on, waiting in the dead-letter queue. @default statistic Maximum */
  metricDeadLetters(props?: MetricOptions): Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /**
   * The stack outputs the CDK app shows after `cdk deploy`; a further detector in the stack
   * prefixes their ids with its construct path.
   */
  addOutputs(scope: Construct = Stack.of(this)): void {
    addDetectorOutputs(scope, (this.nameSuffix ?? '').replace(/-/g, ''), {
      functionName: this.function.functionName,
      logGroupName: this.detector.logGroup.logGroupName,
      tableName: this.table.tableName,
      alertTopicArn: this.alertTopic.topicArn,
      opsTopicArn: this.opsTopic.topicArn,
      deadLetterQueueUrl: this.deadLetterQueue.queueUrl,
      dashboardName: this.dashboardName,
      ...(this.trigger?.createdSecret === undefined
        ? {}
        : { createdSecretArn: this.trigger.createdSecret.secretArn }),
      ...(this.feedbackApi === undefined ? {} : { feedbackApiUrl: this.feedbackApi.url.url }),
    });
  }
}
