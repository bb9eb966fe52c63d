import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/telemetry-names.ts';
import { onlyLogicalId, policyStatements, type Synthesized, synthesize } from './synth.ts';

let defaults: Synthesized;
beforeAll(() => {
  defaults = synthesize();
});

describe('rules in the table: the infrastructure (docs/rules.md)', () => {
  it('alarms to the ops topic on an invalid stored rules document', () => {
    const ops = { Ref: Match.stringLikeRegexp('OpsTopic') };
    defaults.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.rulesDocumentInvalid,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [ops],
      OKActions: [ops],
      AlarmDescription: Match.stringLikeRegexp('npm run rules -- get'),
    });
  });

  it('lets the function read the rules item: GetItem on its table, which it already had; no DeleteItem or UpdateItem', () => {
    const table = onlyLogicalId(defaults.template, 'AWS::DynamoDB::Table');
    const onTable = policyStatements(defaults.template).filter(
      (s) => JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [table, 'Arn'] }),
    );
    const actions = onTable.flatMap((s) => s.Action);
    expect(actions).toContain('dynamodb:GetItem');
    expect(actions).not.toContain('dynamodb:DeleteItem');
    expect(actions).not.toContain('dynamodb:UpdateItem');
  });
});
