import { Aws, CfnOutput } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** What a detector shows after `cdk deploy`. */
export interface DetectorOutputValues {
  readonly functionName: string;
  readonly logGroupName: string;
  readonly tableName: string;
  readonly alertTopicArn: string;
  readonly opsTopicArn: string;
  readonly deadLetterQueueUrl: string;
  readonly dashboardName: string;
  /** The SASL/SCRAM secret the stack created, if it did. */
  readonly createdSecretArn?: string;
  /** The feedback API's URL, when it is deployed (docs/feedback.md). */
  readonly feedbackApiUrl?: string;
}

/** The stack outputs of one detector, their ids prefixed (a further detector of the stack). */
export function addDetectorOutputs(
  scope: Construct,
  prefix: string,
  values: DetectorOutputValues,
): void {
  const output = (id: string, value: string, description: string) =>
    new CfnOutput(scope, `${prefix}${id}`, { value, description });
  output('FunctionName', values.functionName, 'Detector Lambda function');
  output('LogGroupName', values.logGroupName, 'Detector logs (anomalies, rejections)');
  output('TableName', values.tableName, 'DynamoDB table of window buckets');
  output('AlertTopicArn', values.alertTopicArn, 'SNS topic of anomaly alerts');
  output('OpsTopicArn', values.opsTopicArn, 'SNS topic of operations alarms');
  output('DeadLetterQueueUrl', values.deadLetterQueueUrl, 'Batches the Kafka mapping gave up on');
  output(
    'DashboardUrl',
    `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${values.dashboardName}`,
    'CloudWatch dashboard',
  );
  if (values.feedbackApiUrl !== undefined)
    output(
      'FeedbackApiUrl',
      values.feedbackApiUrl,
      'Feedback API (AWS_IAM): POST /feedback, GET /feedback, DELETE /feedback/ALERT_ID',
    );
  if (values.createdSecretArn !== undefined)
    output(
      'KafkaCredentialsSecretArn',
      values.createdSecretArn,
      'Put the Kafka SASL/SCRAM username and password into this secret',
    );
}
