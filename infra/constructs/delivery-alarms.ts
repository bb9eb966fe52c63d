import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IAlarmAction,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface DeliveryAlarmsProps {
  readonly alertTopic: ITopic;
  /** The account's monthly SMS spend limit in USD (SNS text messaging preferences). */
  readonly smsMonthlySpendLimitUsd: number;
  /** The share of the limit that raises the alarm, in percent. @default 80 */
  readonly smsSpendAlarmPercent?: number;
  readonly alarmAction: IAlarmAction;
}

/**
 * Alarms on what keeps alerts from reaching people (docs/alerting.md):
 *
 * - SMS spend: SNS's `SMSMonthToDateSpentUSD` is "The charges you have accrued since the start
 *   of the current calendar month for sending SMS messages. You can set an alarm for this
 *   metric to know when your month-to-date charges are close to the monthly SMS spend limit
 *   for your account. When Amazon SNS determines that sending an SMS message would incur a
 *   cost that exceeds this limit, it stops publishing SMS messages within minutes." (Amazon
 *   SNS developer guide, "Monitoring Amazon SNS topics using CloudWatch"; valid statistic
 *   Maximum). The limit is 1 USD on a new account.
 * - Failed deliveries: `NumberOfNotificationsFailed` of the alert topic (per topic, the
 *   `TopicName` dimension): an email or SMS subscription that SNS could not deliver to.
 */
export class DeliveryAlarms extends Construct {
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: DeliveryAlarmsProps) {
    super(scope, id);
    const percent = props.smsSpendAlarmPercent ?? 80;
    const spend = new Alarm(this, 'SmsSpend', {
      metric: new Metric({
        namespace: 'AWS/SNS',
        metricName: 'SMSMonthToDateSpentUSD',
        statistic: 'Maximum',
        period: Duration.hours(1),
      }),
      threshold: (props.smsMonthlySpendLimitUsd * percent) / 100,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No SMS sent this month: no data, nothing to fear.
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: `SMS spend this month reached ${percent}% of the account's ${props.smsMonthlySpendLimitUsd} USD limit: SNS stops sending SMS within minutes of the limit, critical alerts included. Raise the limit (SNS > Text messaging preferences, and a quota increase) or cut SMS subscribers.`,
    });
    const failed = new Alarm(this, 'FailedDeliveries', {
      metric: props.alertTopic.metricNumberOfNotificationsFailed({
        period: Duration.minutes(5),
        statistic: 'Sum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription:
        "SNS could not deliver alerts to an email or SMS subscription (a bounced address, an opted-out number, the SMS spend limit). Check the topic's delivery status logs.",
    });
    this.alarms = [spend, failed];
    for (const a of this.alarms) {
      a.addAlarmAction(props.alarmAction);
      a.addOkAction(props.alarmAction);
    }
  }
}
