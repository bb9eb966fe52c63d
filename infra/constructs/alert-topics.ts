import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { type ITopic, SubscriptionFilter, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, SmsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Message attribute the function sets on every notification: `warning` or `critical`. */
export const SEVERITY_ATTRIBUTE = 'severity';
/**
 * Message attribute that tells a per-sensor `alert` from the batch's `digest`
 * (functions/adapters/sns-alert-publisher.ts): email subscriptions take digests only.
 */
export const KIND_ATTRIBUTE = 'kind';

export interface AlertTopicsProps {
  /** Email addresses subscribed to anomaly alerts. @default - none */
  readonly alertEmails?: readonly string[];
  /** E.164 phone numbers subscribed to anomaly alerts by SMS. @default - none */
  readonly alertSmsNumbers?: readonly string[];
  /** Deliver only `critical` anomalies by SMS. @default true */
  readonly smsCriticalOnly?: boolean;
  /** Email addresses subscribed to the operations (alarm) topic. @default - none */
  readonly opsEmails?: readonly string[];
  /** An alert topic of the app's own, instead of a created one. @default - created */
  readonly alertTopic?: ITopic;
}

/**
 * Two encrypted topics sharing one customer managed key: anomaly alerts for people who act
 * on sensors, and operations alarms for people who run the pipeline.
 */
export class AlertTopics extends Construct {
  readonly key: Key;
  readonly alertTopic: ITopic;
  readonly opsTopic: Topic;

  constructor(scope: Construct, id: string, props: AlertTopicsProps = {}) {
    super(scope, id);

    // A customer managed key because CloudWatch alarms cannot publish to a topic encrypted
    // with the AWS managed SNS key; the key holds no data, so it can go with the stack.
    this.key = new Key(this, 'Key', {
      description: 'Encrypts the anomaly alert and operations SNS topics',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch alarms publish to the operations topic as the cloudwatch.amazonaws.com
    // service, limited to this account's alarms (confused deputy). "To restrict the ability to
    // publish messages to the topic for specific alarms, add global condition keys ...
    // aws:SourceArn" (AWS re:Post knowledge center, "cloudwatch-receive-sns-for-alarm-trigger",
    // https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger).
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: {
        'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
      },
    };
    this.key.addToResourcePolicy(
      new PolicyStatement({
        // An encrypted topic needs the publisher to use its key: "Enable compatibility between
        // event sources from AWS services and encrypted topics" (Amazon SNS developer guide,
        // https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services)
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromOurAlarms,
      }),
    );

    this.alertTopic =
      props.alertTopic ??
      new Topic(this, 'AlertTopic', {
        displayName: 'Sensor anomalies',
        masterKey: this.key,
        enforceSSL: true,
      });
    // "Amazon SNS supports an email message delivery rate of 10 messages per email or
    // email-json subscription ... This is a hard limit" and deactivates a subscription above it
    // (AWS re:Post knowledge center, "sns-email-subscription-disabled",
    // https://repost.aws/knowledge-center/sns-email-subscription-disabled): email gets one
    // digest per batch, never the per-sensor alerts.
    for (const email of props.alertEmails ?? []) {
      this.alertTopic.addSubscription(
        new EmailSubscription(email, {
          filterPolicy: {
            [KIND_ATTRIBUTE]: SubscriptionFilter.stringFilter({ allowlist: ['digest'] }),
          },
        }),
      );
    }
    const smsFilter = {
      [KIND_ATTRIBUTE]: SubscriptionFilter.stringFilter({ allowlist: ['alert'] }),
      ...((props.smsCriticalOnly ?? true)
        ? { [SEVERITY_ATTRIBUTE]: SubscriptionFilter.stringFilter({ allowlist: ['critical'] }) }
        : {}),
    };
    for (const number of props.alertSmsNumbers ?? []) {
      this.alertTopic.addSubscription(new SmsSubscription(number, { filterPolicy: smsFilter }));
    }

    this.opsTopic = new Topic(this, 'OpsTopic', {
      displayName: 'Anomaly detector operations',
      masterKey: this.key,
      enforceSSL: true,
    });
    // enforceSSL gives the topic a policy of its own, which replaces the default one; without
    // this statement an alarm's action fails with "is not authorized to perform: SNS:Publish"
    // (knowledge center article above), and SnsAction adds no permission.
    this.opsTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.opsTopic.topicArn],
        conditions: fromOurAlarms,
      }),
    );
    for (const email of props.opsEmails ?? []) {
      this.opsTopic.addSubscription(new EmailSubscription(email));
    }
  }
}
