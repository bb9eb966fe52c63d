import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  LogQueryWidget,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/telemetry-names.ts';

export interface ObservabilityProps {
  readonly function: IFunction;
  readonly logGroup: ILogGroup;
  readonly deadLetterQueue: IQueue;
  /** Alarms notify this topic when they fire and when they recover. */
  readonly opsTopic: ITopic;
  /** OffsetLag (records behind, summed over partitions) that counts as falling behind. */
  readonly offsetLagThresholdRecords: number;
  /** Share of received records rejected as invalid, in percent, that counts as a problem. */
  readonly rejectedThresholdPercent: number;
  /**
   * Raise an alarm when no record has arrived for this many minutes (1-1440); 0 for none.
   * @default 15
   */
  readonly noRecordsMinutes?: number;
  readonly dashboardName: string;
  /** The function's Powertools service, the `service` dimension of its metrics. @default SERVICE_NAME */
  readonly serviceName?: string;
}

const FIVE_MINUTES = Duration.minutes(5);

/** The handler's EMF metrics: Powertools adds the `service` dimension to each. */
export function serviceMetric(
  metricName: string,
  statistic = 'Sum',
  period = FIVE_MINUTES,
  service: string = SERVICE_NAME,
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service },
    statistic,
    period,
  });
}

/** Alarms that page the operations topic, and a dashboard of the pipeline's health. */
export class Observability extends Construct {
  readonly alarms: readonly Alarm[];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const fn = props.function;
    const service = props.serviceName ?? SERVICE_NAME;
    const detectorMetric = (metricName: string, statistic = 'Sum', period = FIVE_MINUTES) =>
      serviceMetric(metricName, statistic, period, service);

    const rejectedRate = (period: Duration) =>
      new MathExpression({
        // No traffic is not a rejection problem: report 0 instead of dividing by zero.
        expression: 'IF(received > 0, 100 * rejected / received, 0)',
        usingMetrics: {
          rejected: detectorMetric(METRIC.recordsRejected, 'Sum', period),
          received: detectorMetric(METRIC.recordsReceived, 'Sum', period),
        },
        label: 'Rejected records (%)',
        period,
      });
    // Lambda publishes OffsetLag for Kafka mappings under the function's name.
    const offsetLag = fn.metric('OffsetLag', { statistic: 'Maximum', period: FIVE_MINUTES });
    const dlqDepth = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      period: FIVE_MINUTES,
    });

    const alarm = (
      id: string,
      metric: IMetric,
      threshold: number,
      description: string,
      evaluationPeriods = 1,
      datapointsToAlarm = evaluationPeriods,
    ) =>
      new Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods,
        datapointsToAlarm,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });

    this.alarms = [
      alarm(
        'FunctionErrors',
        fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        1,
        'The detector failed a batch (DynamoDB or SNS trouble, or a bug); the mapping retries it. Check the function log group.',
      ),
      alarm(
        'FunctionThrottles',
        fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        1,
        'The detector was throttled: account or reserved concurrency is too low for the partitions.',
      ),
      alarm(
        'OffsetLag',
        offsetLag,
        props.offsetLagThresholdRecords,
        `The detector is more than ${props.offsetLagThresholdRecords} records behind the topics for 15 minutes.`,
        3,
      ),
      alarm(
        'DeadLetters',
        dlqDepth,
        1,
        'The Kafka mapping gave up on a batch (at most 10 retries with an on-failure destination: an outage of DynamoDB, SNS or a sink outlasted them) and sent its offsets to the dead-letter queue, unjudged: replay them (docs/operations.md, "The dead-letter queue").',
      ),
      alarm(
        'RejectedRecords',
        rejectedRate(FIVE_MINUTES),
        props.rejectedThresholdPercent,
        `More than ${props.rejectedThresholdPercent}% of records were rejected as invalid in 2 of the last 3 five-minute periods: check producers.`,
        3,
        2,
      ),
    ];
    const noRecordsMinutes = props.noRecordsMinutes ?? 15;
    if (noRecordsMinutes > 0) {
      // A mapping that cannot connect (secret, security group, endpoint) invokes nothing, so
      // every other alarm sees missing data and stays OK. Here missing data is the signal:
      // "BREACHING | Missing data points are treated as breaching the threshold." (AWS CDK
      // API reference, TreatMissingData,
      // https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_cloudwatch.TreatMissingData.html)
      this.alarms = [
        ...this.alarms,
        new Alarm(this, 'NoRecords', {
          metric: detectorMetric(METRIC.recordsReceived, 'Sum', Duration.minutes(1)),
          threshold: 1,
          evaluationPeriods: noRecordsMinutes,
          datapointsToAlarm: noRecordsMinutes,
          comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
          treatMissingData: TreatMissingData.BREACHING,
          alarmDescription: `No Kafka record reached the detector for ${noRecordsMinutes} minutes: the mapping may not connect (secret, security group, VPC endpoints) or the producers stopped. Check the event source mapping's state (aws lambda list-event-source-mappings).`,
        }),
      ];
    }
    // An invalid rules document in the table (written around `npm run rules -- put`) does not
    // stop the function: it keeps its last valid rules and counts RulesDocumentInvalid, an
    // EMF metric. "The CloudWatch embedded metric format is a JSON specification used to
    // instruct CloudWatch Logs to automatically extract metric values embedded in structured
    // log events. You can use CloudWatch to graph and create alarms on the extracted metric
    // values." (Amazon CloudWatch user guide, "Specification: Embedded metric format",
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
    // Each container counts one per check (every 30 s) while the document stays invalid.
    this.alarms = [
      ...this.alarms,
      alarm(
        'RulesDocumentInvalid',
        detectorMetric(METRIC.rulesDocumentInvalid, 'Sum', FIVE_MINUTES),
        1,
        'The rules document in the table does not validate: the detector keeps judging with its last valid rules (or the deployed ones). See it with `npm run rules -- get`, fix it with `npm run rules -- put FILE` (docs/rules.md).',
      ),
    ];
    const notify = new SnsAction(props.opsTopic);
    for (const a of this.alarms) {
      a.addAlarmAction(notify);
      a.addOkAction(notify);
    }

    const minute = Duration.minutes(1);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Records',
        left: [
          detectorMetric(METRIC.recordsReceived, 'Sum', minute).with({ label: 'received' }),
          detectorMetric(METRIC.recordsRejected, 'Sum', minute).with({ label: 'rejected' }),
          detectorMetric(METRIC.recordsRedelivered, 'Sum', minute).with({ label: 'redelivered' }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Rejected records (%)',
        left: [rejectedRate(minute)],
        leftYAxis: { min: 0, max: 100 },
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Anomalies and notifications',
        left: [
          detectorMetric(METRIC.anomalies, 'Sum', minute).with({ label: 'anomalies' }),
          detectorMetric(METRIC.notificationsSent, 'Sum', minute).with({ label: 'notified' }),
          detectorMetric(METRIC.notificationsHeldBack, 'Sum', minute).with({
            label: 'held back (cooldown)',
          }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Kafka offset lag (records)',
        left: [fn.metric('OffsetLag', { statistic: 'Maximum', period: minute })],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Duration (ms)',
        left: [
          fn.metricDuration({ statistic: 'p50', period: minute }).with({ label: 'invocation p50' }),
          fn.metricDuration({ statistic: 'p99', period: minute }).with({ label: 'invocation p99' }),
          detectorMetric(METRIC.batchDurationMs, 'p99', minute).with({ label: 'batch p99' }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Errors, throttles, dead letters',
        left: [
          fn.metricErrors({ period: minute, statistic: 'Sum' }).with({ label: 'errors' }),
          fn.metricThrottles({ period: minute, statistic: 'Sum' }).with({ label: 'throttles' }),
        ],
        right: [dlqDepth.with({ period: minute, label: 'dead-letter queue depth' })],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 8 }),
      new LogQueryWidget({
        title: 'Latest anomalies',
        logGroupNames: [props.logGroup.logGroupName],
        // The handler logs each anomaly with the Flink job's line as its message.
        queryLines: [
          'fields @timestamp, sensorId, value, mean, deviation, severity, notified',
          'filter message like /^ANOMALY/',
          'sort @timestamp desc',
          'limit 50',
        ],
        width: 16,
      }),
    );
  }
}
