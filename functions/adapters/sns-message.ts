import type { MessageAttributeValue } from '@aws-sdk/client-sns';

/**
 * The parts every SNS message of the detector is made of: one text per protocol and the
 * attributes that subscription filter policies select on. Shared by the per-alert, group,
 * digest, silence and episode messages so that all of them reach every protocol alike.
 */

export interface AlertMessage {
  readonly message: string;
  readonly subject: string;
  readonly attributes: Record<string, MessageAttributeValue>;
}

/**
 * The `kind` message attribute, which subscription filter policies select on: `alert` is one
 * anomaly of one sensor (SMS, SQS, Lambda, HTTPS), `digest` is one message per published batch
 * listing its alerts (email). SNS deactivates an email subscription that receives more than 10
 * messages a second (AWS re:Post knowledge center, "sns-email-subscription-disabled",
 * https://repost.aws/knowledge-center/sns-email-subscription-disabled); a plant-wide event
 * raises one alert per sensor, so email must not get them one by one.
 */
export const MESSAGE_KIND = { alert: 'alert', digest: 'digest' } as const;
export const KIND_ATTRIBUTE = 'kind';

export const text = (value: string): MessageAttributeValue => ({
  DataType: 'String',
  StringValue: value,
});

/**
 * A Number attribute: "Numbers are positive or negative integers or floating-point numbers"
 * (SNS message attribute data types, docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html),
 * which filter policies compare numerically.
 */
export const numberAttribute = (value: number): MessageAttributeValue => ({
  DataType: 'Number',
  StringValue: String(value),
});

/** The attributes every per-sensor `alert` starts with; subscriptions filter on them. */
export function alertAttributes(a: {
  readonly sensorId: string;
  readonly severity: string;
  readonly detector: string;
}): Record<string, MessageAttributeValue> {
  return {
    [KIND_ATTRIBUTE]: text(MESSAGE_KIND.alert),
    sensorId: text(a.sensorId),
    severity: text(a.severity),
    detector: text(a.detector),
  };
}

/** The attributes of a `digest`: its most severe alert's severity and how many it counts. */
export function digestAttributes(
  severity: string,
  count: number,
): Record<string, MessageAttributeValue> {
  return {
    [KIND_ATTRIBUTE]: text(MESSAGE_KIND.digest),
    severity: text(severity),
    count: numberAttribute(count),
  };
}

/**
 * The message with MessageStructure=json: the email body for people, the JSON for machine
 * subscribers, a short text for SMS.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-send-custom-platform-specific-payloads-mobile-devices.html
 */
export function perProtocol(body: string, json: string, sms: string): string {
  return JSON.stringify({
    default: body,
    email: body,
    'email-json': json,
    sms,
    sqs: json,
    lambda: json,
    http: json,
    https: json,
    firehose: json,
  });
}
