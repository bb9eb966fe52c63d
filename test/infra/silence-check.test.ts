import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SINK_ENV } from '../../functions/sinks-config.ts';
import { parseDeployConfig } from '../../infra/config.ts';
import { DEPLOY_EXAMPLES } from '../../infra/examples.ts';
import { detectorFunction, policyStatements, type Synthesized, synthesize } from './synth.ts';

const run = promisify(execFile);
const FN = 'AWS::Lambda::Function';
const SCHEDULE = 'AWS::Scheduler::Schedule';

function rulesFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'silence-rules-'));
  const file = join(dir, 'rules.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

const WATCHING = rulesFile({
  silenceSeconds: 300,
  rules: [{ match: 'boiler_*', detector: { kind: 'threshold' }, silenceSeconds: 60 }],
});

/** The check's function: the one whose service is silence-check. */
function checker(s: Synthesized): { id: string; props: Record<string, any> } {
  const found = Object.entries(s.template.findResources(FN)).filter(
    ([, f]) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'silence-check',
  );
  expect(found).toHaveLength(1);
  const [id, f] = found[0] as [string, { Properties: Record<string, any> }];
  return { id, props: f.Properties };
}

/** The services of the template's functions (POWERTOOLS_SERVICE_NAME), sorted. */
function services(s: Synthesized): string[] {
  return Object.values(s.template.findResources(FN))
    .map((f) => String(f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME))
    .sort();
}

/** The schedules that invoke a function (by its logical id); the digest has its own. */
function schedulesOf(s: Synthesized, fnId: string): Record<string, any>[] {
  return Object.values(s.template.findResources(SCHEDULE)).filter(
    (sc) =>
      JSON.stringify(sc.Properties.Target.Arn) === JSON.stringify({ 'Fn::GetAtt': [fnId, 'Arn'] }),
  );
}

/** The statements of the IAM policy attached to a role (by the role's logical id). */
function roleStatements(s: Synthesized, roleId: string) {
  return Object.values(s.template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);
}

describe('the silence check in the template (docs/silence.md)', () => {
  let plain: Synthesized;
  let watching: Synthesized;
  let withSinks: Synthesized;
  beforeAll(() => {
    plain = synthesize(DEPLOY_EXAMPLES.selfManaged.context);
    watching = synthesize({ ...DEPLOY_EXAMPLES.selfManaged.context, detectorRulesFile: WATCHING });
    withSinks = synthesize({
      ...DEPLOY_EXAMPLES.selfManaged.context,
      detectorRulesFile: WATCHING,
      silenceCheckMinutes: '5',
      anomaliesTopic: 'sensor-anomalies',
      anomaliesEventBus: 'sensor-events',
    });
  });

  it('is deployed when no deployed rule sets silenceSeconds (a stored document may), off with 0', () => {
    // Beside the detector and the email digest (docs/alerting.md), which has its own schedule.
    expect(services(plain)).toEqual(['anomaly-detector', 'digest', 'silence-check']);
    plain.template.resourceCountIs(SCHEDULE, 2);
    expect(schedulesOf(plain, checker(plain).id)).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({ ScheduleExpression: 'rate(1 minute)' }),
      }),
    ]);
    const off = synthesize({ ...DEPLOY_EXAMPLES.selfManaged.context, silenceCheckMinutes: '0' });
    expect(services(off)).toEqual(['anomaly-detector', 'digest']);
    off.template.resourceCountIs(SCHEDULE, 1);
  });

  it('reads the rules document the detector reads (the table read grant covers its item)', () => {
    const { props } = checker(plain);
    const statements = roleStatements(plain, props.Role['Fn::GetAtt'][0]);
    const read = statements.find((st) => [st.Action].flat().includes('dynamodb:GetItem'));
    expect(read?.Condition).toBeUndefined();
  });

  it('runs every minute from EventBridge Scheduler, reserving no concurrency, without retries', () => {
    const { id, props } = checker(watching);
    // A new account's concurrency quota leaves none to reserve (construct-api.test.ts).
    expect(props.ReservedConcurrentExecutions).toBeUndefined();
    watching.template.hasResourceProperties(SCHEDULE, {
      ScheduleExpression: 'rate(1 minute)',
      Target: {
        Arn: { 'Fn::GetAtt': [id, 'Arn'] },
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }),
      },
    });
    // The schedule's role invokes this function and nothing else (no `:*` versions).
    const [schedule, ...others] = schedulesOf(watching, id);
    expect(others).toEqual([]);
    const schedulerRole = schedule?.Properties.Target.RoleArn['Fn::GetAtt'][0] as string;
    expect(roleStatements(watching, schedulerRole)).toEqual([
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [id, 'Arn'] },
      }),
    ]);
    watching.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id },
      MaximumRetryAttempts: 0,
    });
    // The detector's own rules file: the check resolves every sensor's limit from it.
    const detector = detectorFunction(watching.template);
    expect(props.Environment.Variables.DETECTOR_RULES).toBe(
      detector?.Properties.Environment.Variables.DETECTOR_RULES,
    );
    // The detector's timeout: the check waits that long for a batch still running.
    expect(props.Environment.Variables.DETECTOR_TIMEOUT_SECONDS).toBe(
      String(detector?.Properties.Timeout),
    );
    expect(watching.nagFindings).toEqual([]);
  });

  it('may read the table and write only its own items, and publish to the alert topic', () => {
    const { props } = checker(watching);
    const roleId = props.Role['Fn::GetAtt'][0] as string;
    const statements = roleStatements(watching, roleId);
    const dynamodb = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(dynamodb).toEqual([
      expect.objectContaining({ Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'] }),
      expect.objectContaining({
        Action: 'dynamodb:PutItem',
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['silence#checker#*'] },
        },
      }),
    ]);
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'sns:Publish' }));
    const actions = statements.flatMap((s) => [].concat(s.Action));
    expect(actions).not.toContain('events:PutEvents');
  });

  it('raises ops alarms when it fails and when it stops running', () => {
    const { id } = checker(watching);
    const alarms = Object.values(watching.template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => JSON.stringify(a.Properties.Dimensions ?? []).includes(id),
    );
    expect(alarms.map((a) => [a.Properties.MetricName, a.Properties.TreatMissingData])).toEqual([
      ['Errors', 'notBreaching'],
      ['Invocations', 'breaching'],
    ]);
    for (const a of alarms) expect(a.Properties.AlarmActions).toHaveLength(1);
  });

  it('takes silenceCheckMinutes and the anomaly sinks, with their grants', () => {
    const { id, props } = checker(withSinks);
    expect(schedulesOf(withSinks, id).map((sc) => sc.Properties.ScheduleExpression)).toEqual([
      'rate(5 minutes)',
    ]);
    expect(props.Environment.Variables).toMatchObject({
      [SINK_ENV.anomaliesTopic]: 'sensor-anomalies',
      [SINK_ENV.anomaliesEventBus]: 'sensor-events',
    });
    const roleId = props.Role['Fn::GetAtt'][0] as string;
    const actions = roleStatements(withSinks, roleId).flatMap((s) => [].concat(s.Action));
    expect(actions).toContain('events:PutEvents');
    // Self-managed SASL/SCRAM: the sink reads the mapping's secret.
    expect(actions).toContain('secretsmanager:GetSecretValue');
    expect(policyStatements(withSinks.template).length).toBeGreaterThan(0);
    expect(withSinks.nagFindings).toEqual([]);
  });

  it('bundles an entry that validates its config at cold start', async () => {
    const { props } = checker(watching);
    const bundle = watching.bundles.find((b) =>
      readFileSync(b, 'utf8').includes('silence#checker#'),
    );
    expect(bundle).toBeDefined();
    const env = Object.fromEntries(
      Object.entries(props.Environment.Variables as Record<string, unknown>).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : `placeholder-${k}`,
      ]),
    );
    const script = `const m = await import(${JSON.stringify(pathToFileURL(bundle ?? '').href)}); process.stderr.write(typeof m.handler);`;
    const { stderr } = await run(
      process.execPath,
      ['--no-warnings', '--input-type=module', '-e', script],
      {
        env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', ...env },
      },
    );
    expect(stderr).toBe('function');
  });

  it('rejects a bad silenceCheckMinutes with its key', () => {
    expect(() => parseDeployConfig({ silenceCheckMinutes: '-1' })).toThrow(
      /silenceCheckMinutes: must be at least 0/,
    );
    expect(parseDeployConfig({ silenceCheckMinutes: '0' }).props.silenceCheckMinutes).toBe(0);
  });
});
