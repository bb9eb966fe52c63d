import { Aws, Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';

/**
 * The one way a scheduled function of the stack (silence check, window flush, email digest) is
 * run: an EventBridge Scheduler schedule at a fixed rate, no retries (the next run does what
 * this one left), through its own role that may invoke this function only (the L2 target
 * would also grant its versions, `<arn>:*`) and that Scheduler assumes for this account only.
 */
export function scheduleInvocation(
  scope: Construct,
  fn: LambdaFunction,
  opts: { readonly minutes: number; readonly description: string; readonly invokes: string },
): CfnSchedule {
  const schedulerRole = new Role(scope, 'SchedulerRole', {
    assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }),
    description: `EventBridge Scheduler: invokes ${opts.invokes}`,
  });
  schedulerRole.addToPolicy(
    new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }),
  );
  const { minutes } = opts;
  return new CfnSchedule(scope, 'Schedule', {
    scheduleExpression: `rate(${minutes} ${minutes === 1 ? 'minute' : 'minutes'})`,
    flexibleTimeWindow: { mode: 'OFF' },
    description: opts.description,
    target: {
      arn: fn.functionArn,
      roleArn: schedulerRole.roleArn,
      retryPolicy: { maximumRetryAttempts: 0 },
    },
  });
}

/** An alarm on any error of a scheduled function, over at least 5 minutes. */
export function scheduledErrorsAlarm(
  scope: Construct,
  fn: LambdaFunction,
  minutes: number,
  alarmDescription: string,
): Alarm {
  return new Alarm(scope, 'Errors', {
    metric: fn.metricErrors({ period: Duration.minutes(Math.max(5, minutes)), statistic: 'Sum' }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
    alarmDescription,
  });
}
