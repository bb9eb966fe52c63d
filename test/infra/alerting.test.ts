import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_EXAMPLES } from '../../infra/examples.ts';
import { type Synthesized, synthesize } from './synth.ts';

const FN = 'AWS::Lambda::Function';
const ALARM = 'AWS::CloudWatch::Alarm';

/** The digest function: the one whose service is digest. */
function digestFunctions(s: Synthesized) {
  return Object.entries(s.template.findResources(FN)).filter(
    ([, f]) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'digest',
  );
}

describe('alerting in the template (docs/alerting.md)', () => {
  let plain: Synthesized;
  let tuned: Synthesized;
  let off: Synthesized;
  beforeAll(() => {
    plain = synthesize(DEPLOY_EXAMPLES.selfManaged.context);
    tuned = synthesize({
      ...DEPLOY_EXAMPLES.selfManaged.context,
      digestPeriodSeconds: '300',
      freshnessSeconds: '120',
      smsMonthlySpendLimitUsd: '50',
    });
    off = synthesize({ ...DEPLOY_EXAMPLES.selfManaged.context, digestPeriodSeconds: '0' });
  }, 600_000);

  it('runs one digest function per period on the detector’s settings', () => {
    expect(digestFunctions(plain)).toHaveLength(1);
    plain.template.hasResourceProperties(FN, {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'digest',
          DIGEST_PERIOD_SECONDS: '900',
          FRESHNESS_SECONDS: '300',
        }),
      },
    });
    plain.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(15 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
    tuned.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
    });
    // The detector judges with the same settings.
    tuned.template.hasResourceProperties(FN, {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'anomaly-detector',
          DIGEST_PERIOD_SECONDS: '300',
          FRESHNESS_SECONDS: '120',
        }),
      },
    });
  });

  it('deploys no digest function with digestPeriodSeconds 0 (a digest per batch instead)', () => {
    expect(digestFunctions(off)).toHaveLength(0);
    off.template.hasResourceProperties(FN, {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'anomaly-detector',
          DIGEST_PERIOD_SECONDS: '0',
        }),
      },
    });
  });

  it('lets the digest function write its cursor and nothing else', () => {
    const [[id]] = digestFunctions(plain) as [[string, unknown]];
    const role = plain.template.findResources(FN)[id]?.Properties.Role['Fn::GetAtt'][0];
    const statements = Object.values(plain.template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);
    const puts = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:PutItem'));
    expect(puts).toHaveLength(1);
    expect(puts[0]?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['digest-cursor'] },
    });
    expect(JSON.stringify(statements)).toContain('dynamodb:Query');
  });

  it('alarms on SMS spend near the account limit and on failed deliveries of the alert topic', () => {
    plain.template.hasResourceProperties(ALARM, {
      Namespace: 'AWS/SNS',
      MetricName: 'SMSMonthToDateSpentUSD',
      Statistic: 'Maximum',
      Threshold: 0.8,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    tuned.template.hasResourceProperties(ALARM, {
      MetricName: 'SMSMonthToDateSpentUSD',
      Threshold: 40,
    });
    plain.template.hasResourceProperties(ALARM, {
      Namespace: 'AWS/SNS',
      MetricName: 'NumberOfNotificationsFailed',
      Statistic: 'Sum',
      Threshold: 1,
      Dimensions: [{ Name: 'TopicName', Value: Match.anyValue() }],
      AlarmActions: [Match.anyValue()],
    });
  });
});
