import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { SubscriptionFilter, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, SmsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Message attribute the function sets on every notification: `warning` or `critical`. */
export const SEVERITY_ATTRIBUTE = 'severity';

export interface AlertTopicsProps {
  /** Email addresses subscribed to anomaly alerts. @default - none */
  readonly alertEmails?: readonly string[];
  /** E.164 phone numbers subscribed to anomaly alerts by SMS. @default - none */
  readonly alertSmsNumbers?: readonly string[];
  /** Deliver only `critical` anomalies by SMS. @default true */
  readonly smsCriticalOnly?: boolean;
  /** Email addresses subscribed to the operations (alarm) topic. @default - none */
  readonly opsEmails?: readonly string[];
}

/**
 * Two encrypted topics sharing one customer managed key: anomaly alerts for people who act
 * on sensors, and operations alarms for people who run the pipeline.
 */
export class AlertTopics extends Construct {
  readonly key: Key;
  readonly alertTopic: Topic;
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
    this.key.addToResourcePolicy(
      new PolicyStatement({
        // https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );

    this.alertTopic = new Topic(this, 'AlertTopic', {
      displayName: 'Sensor anomalies',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.alertEmails ?? []) {
      this.alertTopic.addSubscription(new EmailSubscription(email));
    }
    const smsFilter =
      (props.smsCriticalOnly ?? true)
        ? { [SEVERITY_ATTRIBUTE]: SubscriptionFilter.stringFilter({ allowlist: ['critical'] }) }
        : undefined;
    for (const number of props.alertSmsNumbers ?? []) {
      this.alertTopic.addSubscription(
        new SmsSubscription(number, smsFilter === undefined ? {} : { filterPolicy: smsFilter }),
      );
    }

    this.opsTopic = new Topic(this, 'OpsTopic', {
      displayName: 'Anomaly detector operations',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.opsEmails ?? []) {
      this.opsTopic.addSubscription(new EmailSubscription(email));
    }
  }
}
