import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import {
  Grant,
  type IGrantable,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import {
  type FunctionUrl,
  FunctionUrlAuthType,
  type Function as LambdaFunction,
} from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FEEDBACK_PARTITION_KEY_VALUE } from '../../functions/adapters/dynamodb-table.ts';
import { ENV } from '../../functions/config.ts';
import { createNodeFunction } from './node-function.ts';

/** What recording, listing and deleting verdicts takes: the CLI's and the API's requests. */
export const FEEDBACK_ACTIONS = [
  'dynamodb:DeleteItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
] as const;

/**
 * The verdicts' items only: "dynamodb:LeadingKeys: Allows a user to access items that have a
 * specific partition key value." (AWS re:Post knowledge center,
 * https://repost.aws/knowledge-center/dynamodb-table-restrict-attributes; DynamoDB developer
 * guide, "Using IAM policy conditions for fine-grained access control").
 */
export function feedbackItemsGrant(grantee: IGrantable, table: ITable): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions: [...FEEDBACK_ACTIONS],
    resourceArns: [table.tableArn],
    conditions: {
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [FEEDBACK_PARTITION_KEY_VALUE] },
    },
  });
}

export interface FeedbackApiProps {
  readonly table: ITable;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The feedback API (docs/feedback.md): a small function behind a Lambda function URL with
 * AuthType AWS_IAM. "AWS_IAM – Lambda uses AWS Identity and Access Management (IAM) to
 * authenticate and authorize requests based on the IAM principal's identity policy and the
 * function's resource-based policy. Choose this option if you want only authenticated users
 * and roles to invoke your function via the function URL." (Lambda developer guide, "Control
 * access to Lambda function URLs", https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html).
 * Nobody may call it until granted with `grantInvoke` (the detector's `grantFeedback`).
 */
export class FeedbackApi extends Construct {
  readonly function: LambdaFunction;
  readonly url: FunctionUrl;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: FeedbackApiProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Sensor anomaly detector: records operators verdicts on alerts',
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    feedbackItemsGrant(this.role, props.table);
    this.function = createNodeFunction(this, 'Handler', 'feedback-api', {
      memorySize: 256,
      timeout: Duration.seconds(10),
      role: this.role,
      logGroup,
      description: 'Feedback on anomaly alerts: not-anomaly and missed verdicts',
      environment: { [ENV.tableName]: props.table.tableName },
    });
    this.url = this.function.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is pinned on purpose, as for the detector function.',
    });
  }

  /**
   * Call the API: "new function URLs will require both lambda:InvokeFunctionUrl and
   * lambda:InvokeFunction permissions" (Lambda developer guide, urls-auth), which
   * `grantInvokeUrl` gives, the second only through the URL.
   */
  grantInvoke(grantee: IGrantable): Grant {
    return this.url.grantInvokeUrl(grantee);
  }
}
