import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../functions/config.ts';
import { buildDetectorApp } from '../../infra/build-app.ts';
import {
  CONTEXT_DEFAULTS,
  CONTEXT_KEYS,
  DeployConfigError,
  PROVISIONED_DEFAULTS,
  parseDeployConfig,
} from '../../infra/config.ts';
import { DEPLOY_EXAMPLES } from '../../infra/examples.ts';
import { CDK_JSON_CONTEXT } from './synth.ts';

const MSK_ARN =
  'arn:aws:kafka:eu-west-1:123456789012:cluster/sensors/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-3';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka/creds-AbCdEf';
const VPC = { vpcId: 'vpc-0abc', subnetIds: 'subnet-01,subnet-02', securityGroupId: 'sg-0123' };

/** The error message for a context on top of cdk.json, or a failure if it parses. */
function errorFor(context: Record<string, unknown>, cwd?: string): string {
  try {
    parseDeployConfig({ ...CDK_JSON_CONTEXT, ...context }, cwd === undefined ? {} : { cwd });
  } catch (error) {
    expect(error).toBeInstanceOf(DeployConfigError);
    return (error as Error).message;
  }
  throw new Error(`expected a DeployConfigError for ${JSON.stringify(context)}`);
}

describe('deploy config defaults', () => {
  it('cdk.json carries exactly the defaults the code applies', () => {
    // Prepare: cdk.json's context minus the CDK CLI's own keys.
    const ours = Object.fromEntries(
      Object.entries(CDK_JSON_CONTEXT).filter(([k]) => (CONTEXT_KEYS as string[]).includes(k)),
    );
    // Assess
    expect(ours).toEqual(CONTEXT_DEFAULTS);
    expect(parseDeployConfig(CDK_JSON_CONTEXT)).toEqual(parseDeployConfig({}));
  });

  it('defaults to self-managed brokers with SASL/SCRAM-512 in on-demand mode', () => {
    const config = parseDeployConfig({});
    expect(config.kafka).toMatchObject({
      kind: 'self-managed',
      auth: 'sasl-scram-512',
      bootstrapServers: ['kafka-1.example.com:9096'],
      topics: ['sensor-readings'],
      consumerGroupId: 'anomaly-detector',
    });
    expect(config.kafka.provisioned).toBeUndefined();
    expect(config.removalPolicy).toBe('retain');
  });

  it('maps detection keys onto exactly the environment names the function validates', () => {
    const env = parseDeployConfig({}).detectorEnvironment;
    const expected = Object.values(ENV).filter((n) => n !== ENV.tableName && n !== ENV.topicArn);
    expect(Object.keys(env).sort()).toEqual([...expected].sort());
    expect(env).toMatchObject({ SLIDE_SECONDS: '5', WINDOW_SECONDS: '10', DETECTOR_RULES: '[]' });
  });

  it.each(Object.entries(DEPLOY_EXAMPLES))('accepts the documented example %s', (_, example) => {
    expect(() => parseDeployConfig({ ...CDK_JSON_CONTEXT, ...example.context })).not.toThrow();
  });
});

describe('deploy config from command-line strings', () => {
  it('coerces numbers, booleans and comma-separated lists', () => {
    const config = parseDeployConfig({
      batchSize: '200',
      topics: 'a, b ,c',
      smsCriticalOnly: 'false',
      alertSmsNumbers: '+14155550100',
      threshold: '12.5',
    });
    expect(config.kafka.batchSize).toBe(200);
    expect(config.kafka.topics).toEqual(['a', 'b', 'c']);
    expect(config.alerts.smsCriticalOnly).toBe(false);
    expect(config.detectorEnvironment[ENV.threshold]).toBe('12.5');
  });

  it('treats an empty value as unset', () => {
    expect(
      parseDeployConfig({ kafkaSecretArn: '', alertEmails: '' }).kafka.secretArn,
    ).toBeUndefined();
  });

  it('ignores CDK and feature-flag context keys', () => {
    expect(() =>
      parseDeployConfig({
        'aws:cdk:enable-path-metadata': true,
        '@aws-cdk/core:newStyleStackSynthesis': true,
        'cli-telemetry': false,
      }),
    ).not.toThrow();
  });

  it('applies provisioned-mode error handling defaults only in provisioned mode', () => {
    const config = parseDeployConfig({ provisionedMinPollers: '2', pollerGroupName: 'shared' });
    expect(config.kafka.provisioned).toEqual({
      minPollers: 2,
      pollerGroupName: 'shared',
      ...PROVISIONED_DEFAULTS,
    });
  });
});

describe('deploy config errors name the key and the bad value', () => {
  const cases: ReadonlyArray<[string, Record<string, unknown>, readonly string[]]> = [
    [
      'unknown key, with a suggestion',
      { windowSecond: '10' },
      ['windowSecond: unknown context key', 'did you mean windowSeconds?'],
    ],
    [
      'window not a multiple of the slide',
      { windowSeconds: '12' },
      ['windowSeconds:', 'slideSeconds (5)', '(got 12)'],
    ],
    [
      'bad email',
      { alertEmails: 'ops@example.com,not-an-email' },
      ['alertEmails:', 'email', 'not-an-email'],
    ],
    [
      'bad phone number',
      { alertSmsNumbers: '0171 555' },
      ['alertSmsNumbers:', 'E.164', '0171 555'],
    ],
    [
      'duplicate subscription',
      { opsEmails: 'a@example.com,a@example.com' },
      ['opsEmails: must not repeat'],
    ],
    ['batch size out of range', { batchSize: '20000' }, ['batchSize:', '20000']],
    ['not a number', { memorySizeMb: 'lots' }, ['memorySizeMb:', '"lots"']],
    ['bad boolean', { smsCriticalOnly: 'yes' }, ['smsCriticalOnly:', '"yes"']],
    [
      'retention not offered by CloudWatch',
      { logRetentionDays: '31' },
      ['logRetentionDays: must be one of', '31'],
    ],
    ['unknown detector', { detector: 'iforest' }, ['detector:', 'iforest']],
    [
      'bad broker address',
      { bootstrapServers: 'kafka.example.com' },
      ['bootstrapServers: must be host:port', 'kafka.example.com'],
    ],
    [
      'bad topic name',
      { topics: 'sensor readings' },
      ['topics: must be Kafka topic names', 'sensor readings'],
    ],
    [
      'partial secret ARN',
      { kafkaSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka' },
      ['kafkaSecretArn: must be the complete secret ARN'],
    ],
    [
      'MSK without a cluster ARN',
      { kafkaSource: 'msk' },
      ['mskClusterArn: required when kafkaSource is msk'],
    ],
    [
      'bad MSK ARN',
      { kafkaSource: 'msk', mskClusterArn: 'arn:aws:kafka:eu-west-1:123:cluster/x' },
      ['mskClusterArn: must be an MSK cluster ARN'],
    ],
    [
      'MSK with mTLS',
      { kafkaSource: 'msk', mskClusterArn: MSK_ARN, kafkaAuth: 'mtls' },
      ['kafkaAuth: must be iam or sasl-scram-512', '"mtls"'],
    ],
    [
      'MSK SCRAM without a secret',
      { kafkaSource: 'msk', mskClusterArn: MSK_ARN, kafkaAuth: 'sasl-scram-512' },
      ['kafkaSecretArn: required when kafkaAuth is sasl-scram-512'],
    ],
    [
      'MSK with VPC keys',
      { kafkaSource: 'msk', mskClusterArn: MSK_ARN, ...VPC },
      ['vpcId: not allowed when kafkaSource is msk'],
    ],
    [
      'a secret with MSK IAM auth',
      { kafkaSource: 'msk', mskClusterArn: MSK_ARN, kafkaSecretArn: SECRET_ARN },
      ['kafkaSecretArn: not allowed when kafkaAuth is iam'],
    ],
    ['IAM auth on self-managed brokers', { kafkaAuth: 'iam' }, ['kafkaAuth: iam is for MSK only']],
    [
      'cluster ARN on self-managed brokers',
      { mskClusterArn: MSK_ARN },
      ['mskClusterArn: not allowed when kafkaSource is self-managed'],
    ],
    [
      'unauthenticated brokers outside a VPC',
      { kafkaAuth: 'none' },
      ['kafkaAuth: none requires vpcId, subnetIds and securityGroupId'],
    ],
    [
      'mTLS without a certificate secret',
      { kafkaAuth: 'mtls' },
      ['kafkaSecretArn: required when kafkaAuth is mtls'],
    ],
    [
      'partial VPC',
      { vpcId: 'vpc-0abc' },
      ['subnetIds: required with vpcId', 'securityGroupId: required with vpcId'],
    ],
    [
      'retries in on-demand mode',
      { retryAttempts: '5' },
      ['retryAttempts: not allowed in on-demand mode', '(got 5)'],
    ],
    [
      'partial batch responses in on-demand mode',
      { reportBatchItemFailures: 'true' },
      ['reportBatchItemFailures: not allowed in on-demand mode'],
    ],
    [
      'min pollers above max',
      { provisionedMinPollers: '5', provisionedMaxPollers: '2' },
      ['provisionedMinPollers: must not exceed provisionedMaxPollers (2)', '(got 5)'],
    ],
    [
      'AT_TIMESTAMP without a timestamp',
      { startingPosition: 'AT_TIMESTAMP' },
      ['startingPositionTimestamp: required when startingPosition is AT_TIMESTAMP'],
    ],
    [
      'timestamp without AT_TIMESTAMP',
      { startingPositionTimestamp: '1700000000' },
      ['startingPositionTimestamp: not allowed when startingPosition is LATEST'],
    ],
    [
      'KMS key without a secret',
      { kafkaSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abc-123' },
      ['kafkaSecretArn: required with kafkaSecretKmsKeyArn'],
    ],
    [
      'bad stack name',
      { stackName: '1-stack' },
      ['stackName: must be a CloudFormation stack name', '"1-stack"'],
    ],
  ];

  it.each(cases)('%s', (_, context, fragments) => {
    const message = errorFor(context);
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  it('stops the app before any construct is built', () => {
    const app = new App({ context: { ...CDK_JSON_CONTEXT, kafkaSource: 'msk' } });
    expect(() => buildDetectorApp(app)).toThrow(DeployConfigError);
    expect(() => buildDetectorApp(app)).toThrow(/mskClusterArn: required when kafkaSource is msk/);
    expect(app.node.children).toHaveLength(0);
  });

  it('lists every problem at once', () => {
    const message = errorFor({ batchSize: '0', alertEmails: 'x', detector: 'nope' });
    expect(message).toMatch(/batchSize:[\s\S]*detector:[\s\S]*alertEmails:/);
  });
});

describe('detectorRulesFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-'));
  const file = (name: string, content: string) => {
    writeFileSync(join(dir, name), content);
    return name;
  };

  it('puts the rules, minified, into DETECTOR_RULES', () => {
    const name = file(
      'ok.json',
      '[\n  {"match": "boiler_*", "detector": {"kind": "zscore", "sigma": 4}}\n]\n',
    );
    const config = parseDeployConfig({ detectorRulesFile: name }, { cwd: dir });
    expect(config.detectorEnvironment[ENV.detectorRules]).toBe(
      '[{"match":"boiler_*","detector":{"kind":"zscore","sigma":4}}]',
    );
  });

  it('accepts the object form with a default detector', () => {
    const name = file(
      'object.json',
      '{"default": {"kind": "ewma"}, "rules": [{"match": "x", "detector": {"kind": "threshold"}}]}',
    );
    const config = parseDeployConfig({ detectorRulesFile: name }, { cwd: dir });
    expect(JSON.parse(config.detectorEnvironment[ENV.detectorRules] ?? '')).toMatchObject({
      default: { kind: 'ewma' },
    });
  });

  it.each([
    ['a missing file', 'missing.json', undefined, ['"missing.json"', 'ENOENT']],
    ['invalid JSON', 'bad.json', '[{"match": ', ['"bad.json"', 'not valid JSON']],
    ['an unknown key', 'unknown.json', '{"match": "x"}', ['"unknown.json"', '"match"']],
    [
      'a bad rule',
      'rule.json',
      '[{"match": "x", "detector": {"kind": "iforest"}}]',
      ['"rule.json"', '0.detector.kind'],
    ],
    [
      'rules too large for the environment',
      'big.json',
      JSON.stringify(
        Array.from({ length: 80 }, (_, i) => ({
          match: `sensor_${i}_*`,
          detector: { kind: 'threshold', threshold: i },
        })),
      ),
      ['the rules make the function environment', '4096'],
    ],
  ] as const)('rejects %s, naming the key and the file', (_, name, content, fragments) => {
    if (content !== undefined) file(name, content);
    const message = errorFor({ detectorRulesFile: name }, dir);
    expect(message).toContain('  - detectorRulesFile: ');
    expect(message).not.toContain(dir);
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  it('resolves the documented example file from the repository root', () => {
    const config = parseDeployConfig({
      ...CDK_JSON_CONTEXT,
      ...DEPLOY_EXAMPLES.mskScramProvisioned.context,
    });
    expect(JSON.parse(config.detectorEnvironment[ENV.detectorRules] ?? '[]')).toHaveLength(3);
  });
});

describe('MSK example', () => {
  it('parses provisioned mode with its retry limit and the secret key', () => {
    const config = parseDeployConfig({
      ...CDK_JSON_CONTEXT,
      ...DEPLOY_EXAMPLES.mskScramProvisioned.context,
    });
    expect(config.kafka).toMatchObject({
      kind: 'msk',
      clusterArn: MSK_ARN,
      auth: 'sasl-scram-512',
      provisioned: { minPollers: 1, maxPollers: 4, retryAttempts: 100, bisectBatchOnError: false },
    });
    expect(config.kafka.secretArn).toMatch(/AmazonMSK_/);
  });
});
