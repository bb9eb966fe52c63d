import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_EXAMPLES } from '../../infra/examples.ts';
import { type Synthesized, synthesize } from './synth.ts';

const FN = 'AWS::Lambda::Function';
const SCHEDULE = 'AWS::Scheduler::Schedule';

/** The flush's function: the one whose service is window-flush. */
function flusher(s: Synthesized): { id: string; props: Record<string, any> } | undefined {
  const found = Object.entries(s.template.findResources(FN)).filter(
    ([, f]) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'window-flush',
  );
  if (found.length === 0) return undefined;
  expect(found).toHaveLength(1);
  const [id, f] = found[0] as [string, { Properties: Record<string, any> }];
  return { id, props: f.Properties };
}

function roleStatements(s: Synthesized, roleId: string) {
  return Object.values(s.template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);
}

describe('window-close evaluation in the template (docs/state.md, "Open windows")', () => {
  let arrival: Synthesized;
  let windowClose: Synthesized;
  beforeAll(() => {
    arrival = synthesize(DEPLOY_EXAMPLES.selfManaged.context);
    windowClose = synthesize({
      ...DEPLOY_EXAMPLES.selfManaged.context,
      evaluation: 'window-close',
      allowedLatenessMs: '3000',
      windowFlushMinutes: '2',
    });
    // Two stacks, each bundling its functions with esbuild.
  }, 400_000);

  it('arrival (the default) deploys no flush and sets no evaluation variables', () => {
    expect(flusher(arrival)).toBeUndefined();
    const detector = Object.values(arrival.template.findResources(FN)).find(
      (f) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === 'anomaly-detector',
    );
    expect(detector?.Properties.Environment.Variables.EVALUATION ?? 'arrival').toBe('arrival');
  });

  it('window-close: the detector and the flush judge with the same evaluation, lateness and windows', () => {
    const flush = flusher(windowClose);
    expect(flush).toBeDefined();
    const vars = flush?.props.Environment.Variables;
    expect(vars).toMatchObject({ EVALUATION: 'window-close', ALLOWED_LATENESS_MS: '3000' });
    windowClose.template.hasResourceProperties(FN, {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: Match.not('window-flush'),
          EVALUATION: 'window-close',
          ALLOWED_LATENESS_MS: '3000',
        }),
      },
    });
  });

  it('runs from an EventBridge Scheduler schedule, invoking the flush only, without retries', () => {
    const flush = flusher(windowClose);
    const id = flush?.id as string;
    windowClose.template.hasResourceProperties(SCHEDULE, {
      ScheduleExpression: 'rate(2 minutes)',
      Target: {
        Arn: { 'Fn::GetAtt': [id, 'Arn'] },
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }),
      },
    });
    const schedule = Object.values(windowClose.template.findResources(SCHEDULE)).find((s) =>
      JSON.stringify(s.Properties.Target.Arn).includes(id),
    );
    const schedulerRole = schedule?.Properties.Target.RoleArn['Fn::GetAtt'][0] as string;
    expect(roleStatements(windowClose, schedulerRole)).toEqual([
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [id, 'Arn'] },
      }),
    ]);
    windowClose.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id },
      MaximumRetryAttempts: 0,
    });
  });

  it('may read the table, write partition roots and pages only, and publish to the alert topic', () => {
    const flush = flusher(windowClose);
    const statements = roleStatements(windowClose, flush?.props.Role['Fn::GetAtt'][0]);
    const dynamodb = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(dynamodb).toEqual([
      expect.objectContaining({ Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'] }),
      expect.objectContaining({
        Action: 'dynamodb:PutItem',
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['root#*', 'page#*'] } },
      }),
    ]);
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'sns:Publish' }));
    // The detector lists its partition for the flush with the requests it sends anyway.
    const detectorRole = Object.values(windowClose.template.findResources(FN)).find(
      (f) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === 'anomaly-detector',
    )?.Properties.Role['Fn::GetAtt'][0] as string;
    const detectorActions = roleStatements(windowClose, detectorRole).flatMap((s) =>
      [].concat(s.Action),
    );
    expect(detectorActions).toContain('dynamodb:PutItem');
    expect(detectorActions).not.toContain('dynamodb:UpdateItem');
    expect(windowClose.nagFindings).toEqual([]);
  });

  it('raises an ops alarm when the flush fails', () => {
    const id = flusher(windowClose)?.id as string;
    const alarms = Object.values(
      windowClose.template.findResources('AWS::CloudWatch::Alarm'),
    ).filter((a) => JSON.stringify(a.Properties.Dimensions ?? []).includes(id));
    expect(alarms.map((a) => a.Properties.MetricName)).toEqual(['Errors']);
  });
});
