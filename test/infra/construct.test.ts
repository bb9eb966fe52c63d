import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  KafkaSource,
  SensorAnomalyDetector,
  SensorAnomalyDetectorError,
} from '../../infra/index.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const DOC = readFileSync(join(REPO_ROOT, 'docs', 'deploy.md'), 'utf8');

/** The TypeScript block of docs/deploy.md's "Adding the detector to an existing CDK app". */
function documentedApp(): string {
  const section = DOC.split('\n## Adding the detector to an existing CDK app\n')[1] ?? '';
  const block = /```ts\n([\s\S]*?)\n```/.exec(section)?.[1];
  if (block === undefined) throw new Error('no ts block in the construct section');
  return block;
}

// A fresh CDK app in its own directory: the documented code, this package resolved by name
// through node_modules (package.json "exports"), the user's own aws-cdk-lib and constructs.
describe('SensorAnomalyDetector in an existing CDK app, as docs/deploy.md shows it', {
  timeout: 120_000,
}, () => {
  let template: Template;
  let outputs: Record<string, unknown>;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'user-app-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(REPO_ROOT, join(dir, 'node_modules', 'sensor-anomaly-detector'), 'dir');
    for (const dep of ['aws-cdk-lib', 'constructs']) {
      symlinkSync(join(REPO_ROOT, 'node_modules', dep), join(dir, 'node_modules', dep), 'dir');
    }
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(join(dir, 'app.ts'), documentedApp());
    const outdir = join(dir, 'cdk.out');
    await run(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['app.ts'], {
      cwd: dir,
      env: { ...process.env, CDK_OUTDIR: outdir },
    });
    const json = JSON.parse(readFileSync(join(outdir, 'PlantMonitoring.template.json'), 'utf8'));
    template = Template.fromJSON(json);
    outputs = json.Outputs;
  }, 120_000);

  it('maps the topic with the given secret and a consumer group of its own stack', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      SelfManagedEventSource: {
        Endpoints: {
          KafkaBootstrapServers: ['b-1.kafka.example.com:9096', 'b-2.kafka.example.com:9096'],
        },
      },
      Topics: ['sensor-readings'],
      SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: 'PlantMonitoring-anomaly-detector' },
      StartingPosition: 'TRIM_HORIZON',
    });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  it('runs the detector it was given, with source maps', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Environment: {
        Variables: Match.objectLike({ DETECTOR: 'ewma', NODE_OPTIONS: '--enable-source-maps' }),
      },
    });
  });

  it('digests email, lets CloudWatch publish alarms, and has the stack outputs', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      FilterPolicy: { kind: ['digest'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' } }),
        ]),
      },
    });
    // 7 of the detector, 2 of the silence check, deployed by default (docs/silence.md).
    template.resourceCountIs('AWS::CloudWatch::Alarm', 9);
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'AlertTopicArn',
        'DashboardUrl',
        'DeadLetterQueueUrl',
        'FunctionName',
        'LogGroupName',
        'OpsTopicArn',
        'TableName',
      ].sort(),
    );
  });
});

describe('SensorAnomalyDetector props are checked at synth', () => {
  const stack = () => new Stack(new App(), 'S');
  const broker = { bootstrapServers: ['b:9096'], topics: ['t'] };

  it('refuses a timeout the Kafka mapping does not support (item 2)', () => {
    expect(() => new SensorAnomalyDetector(stack(), 'D', { timeoutSeconds: 900 })).toThrow(
      new SensorAnomalyDetectorError(
        'timeoutSeconds must be 1-840: Kafka event source mappings only support functions with a timeout of at most 14 minutes (got 900)',
      ),
    );
  });

  it('refuses MSK SCRAM without the secret key or the AmazonMSK_ name (item 3)', () => {
    const clusterArn = 'arn:aws:kafka:eu-west-1:123456789012:cluster/c/0f1e2d3c-1';
    expect(() =>
      KafkaSource.msk({
        clusterArn,
        topics: ['t'],
        auth: 'sasl-scram-512',
        secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_x-AbCdEf',
      }),
    ).toThrow(/needs secretArn and secretKmsKeyArn/);
    expect(() =>
      KafkaSource.msk({
        clusterArn,
        topics: ['t'],
        auth: 'sasl-scram-512',
        secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka-AbCdEf',
        secretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k',
      }),
    ).toThrow(/must begin with AmazonMSK_ \(got "kafka"\)/);
  });

  it('refuses unauthenticated brokers outside a VPC', () => {
    expect(() => KafkaSource.selfManaged({ ...broker, auth: 'none' })).toThrow(
      /auth none needs vpc/,
    );
  });

  it('creates no mapping without a kafkaSource (attach your own trigger)', () => {
    const s = stack();
    const detector = new SensorAnomalyDetector(s, 'D');
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    expect(detector.detectorFunction).toBe(detector.detector.function);
  });
});
