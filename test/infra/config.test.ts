import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
import { detectionEnvironment } from '../../infra/detection.ts';
import { DEPLOY_EXAMPLES } from '../../infra/examples.ts';
import { KafkaSource } from '../../infra/kafka-source.ts';
import { CDK_JSON_CONTEXT } from './synth.ts';

const MSK_ARN =
  'arn:aws:kafka:eu-west-1:123456789012:cluster/sensors/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-3';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka/creds-AbCdEf';
const VPC = { vpcId: 'vpc-0abc', subnetIds: 'subnet-01,subnet-02', securityGroupId: 'sg-0123' };
const MSK_SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_detector-AbCdEf';
const KMS_KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** The detector function's detection variables, as the construct sets them from the props. */
function detectorEnvironment(context: Record<string, unknown>, cwd?: string) {
  const config = parseDeployConfig(context, cwd === undefined ? {} : { cwd });
  return detectionEnvironment(config.props.detection).environment;
}

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
      // Items 9 and 10: no missed records on create/update, one group per stack.
      startingPosition: 'TRIM_HORIZON',
      consumerGroupId: 'SensorAnomalyDetector-anomaly-detector',
    });
    expect(parseDeployConfig({ stackName: 'PlantB' }).kafka.consumerGroupId).toBe(
      'PlantB-anomaly-detector',
    );
    expect(parseDeployConfig({ consumerGroupId: 'legacy-group' }).kafka.consumerGroupId).toBe(
      'legacy-group',
    );
    expect(config).toMatchObject({ eventSourceMapping: true, props: { tracing: false } });
    expect(config.props.alarmNoRecordsMinutes).toBe(15);
    expect(config.props.sqsEndpoint).toBeUndefined();
    expect(config.kafka.provisioned).toBeUndefined();
    expect(config.props.removalPolicy).toBe('retain');
  });

  it('gives the construct a KafkaSource with the mapping, and no kafkaSource prop at all without', () => {
    expect(parseDeployConfig({}).props.kafkaSource).toBeInstanceOf(KafkaSource);
    // The LocalStack deploy: the source's keys still describe the brokers (config.kafka), but
    // no prop may carry them, or the construct would be handed a plain object as its source.
    const local = parseDeployConfig({ eventSourceMapping: false });
    expect(local.props).not.toHaveProperty('kafkaSource');
    expect(local.kafka.kind).toBe('self-managed');
  });

  it('maps detection keys onto exactly the environment names the function validates', () => {
    const all = Object.values(ENV).filter((n) => n !== ENV.tableName && n !== ENV.topicArn);
    // The robust detector's variables are set only when it is the default detector.
    const robust = detectorEnvironment({ detector: 'robust' });
    expect(Object.keys(robust).sort()).toEqual([...all].sort());
    const env = detectorEnvironment({});
    expect(Object.keys(env).sort()).toEqual(all.filter((n) => !n.startsWith('ROBUST_')).sort());
    expect(env).toMatchObject({ SLIDE_SECONDS: '5', WINDOW_SECONDS: '10', DETECTOR_RULES: '[]' });
  });

  it('checks the robust keys with one line each, from the list of detector parameters', () => {
    expect(() => parseDeployConfig({ detector: 'robust', robustScoreThreshold: '1.5' })).toThrow(
      'robustScoreThreshold: must be less than 1 (got "1.5")',
    );
    expect(() => parseDeployConfig({ robustDirection: 'sideways' })).toThrow(
      /robustDirection: must be one of both, up, down/,
    );
    const env = detectorEnvironment({ detector: 'robust', robustSigma: '6' });
    expect(env).toMatchObject({ DETECTOR: 'robust', ROBUST_SIGMA: '6', ROBUST_DIRECTION: 'both' });
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
    expect(config.props.smsCriticalOnly).toBe(false);
    expect(detectionEnvironment(config.props.detection).environment[ENV.threshold]).toBe('12.5');
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
    [
      'not a number',
      { memorySizeMb: 'lots' },
      ['memorySizeMb: must be a number, without a unit (got "lots")'],
    ],
    [
      'a unit in a number (item 12)',
      { memorySizeMb: '1024MB' },
      ['memorySizeMb: must be a number, without a unit (got "1024MB")'],
    ],
    [
      'bad boolean (item 12)',
      { smsCriticalOnly: 'yes' },
      ['smsCriticalOnly: must be true or false (got "yes")'],
    ],
    [
      'enum value',
      { startingPosition: 'EARLIEST' },
      ['startingPosition: must be one of LATEST, TRIM_HORIZON, AT_TIMESTAMP (got "EARLIEST")'],
    ],
    ['below a minimum', { batchSize: '0' }, ['batchSize: must be at least 1', '(got "0")']],
    [
      'timeout above what Kafka mappings support (item 2)',
      { timeoutSeconds: '900' },
      [
        'timeoutSeconds: must be at most 840: Kafka event source mappings only support functions with a timeout of at most 14 minutes (840 s) (got "900")',
      ],
    ],
    [
      'no-records alarm longer than a day',
      { alarmNoRecordsMinutes: '2000' },
      ['alarmNoRecordsMinutes: must be at most 1440', '0 turns the alarm off'],
    ],
    [
      'retention not offered by CloudWatch',
      { logRetentionDays: '31' },
      ['logRetentionDays: must be one of', '31'],
    ],
    ['unknown detector', { detector: 'iforest' }, ['detector:', 'iforest']],
    [
      'adaptive score threshold outside (0, 1)',
      { adaptiveScoreThreshold: '1.5' },
      ['adaptiveScoreThreshold: must be less than 1 (got "1.5")'],
    ],
    [
      'adaptive readings not whole',
      { adaptiveWarmupReadings: '2.5' },
      ['adaptiveWarmupReadings: must be a whole number', '(got "2.5")'],
    ],
    [
      'adaptive sigma not positive',
      { adaptiveSigma: '0' },
      ['adaptiveSigma: must be greater than 0'],
    ],
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
      "MSK SCRAM without the secret's customer managed key (item 3)",
      {
        kafkaSource: 'msk',
        mskClusterArn: MSK_ARN,
        kafkaAuth: 'sasl-scram-512',
        kafkaSecretArn: MSK_SECRET_ARN,
      },
      [
        'kafkaSecretKmsKeyArn: required when kafkaAuth is sasl-scram-512 on MSK: MSK cannot use a secret encrypted with the default AWS managed key',
      ],
    ],
    [
      'MSK SCRAM secret without the AmazonMSK_ prefix (item 3)',
      {
        kafkaSource: 'msk',
        mskClusterArn: MSK_ARN,
        kafkaAuth: 'sasl-scram-512',
        kafkaSecretArn: SECRET_ARN,
        kafkaSecretKmsKeyArn: KMS_KEY_ARN,
      },
      [
        'kafkaSecretArn: an MSK SCRAM secret\'s name must begin with AmazonMSK_ (got the name "kafka/creds")',
      ],
    ],
    [
      'createSqsEndpoint on MSK without the cluster VPC (item 4)',
      { kafkaSource: 'msk', mskClusterArn: MSK_ARN, createSqsEndpoint: 'true' },
      [
        'vpcId: required when createSqsEndpoint=true on MSK',
        'subnetIds: required',
        'securityGroupId: required',
      ],
    ],
    [
      'createSqsEndpoint for brokers on the internet',
      { createSqsEndpoint: 'true' },
      ['createSqsEndpoint: needs vpcId, subnetIds and securityGroupId'],
    ],
    [
      'MSK with VPC keys',
      { kafkaSource: 'msk', mskClusterArn: MSK_ARN, ...VPC },
      ['vpcId: not allowed when kafkaSource is msk unless createSqsEndpoint=true'],
    ],
    [
      'a secret with MSK IAM auth',
      { kafkaSource: 'msk', mskClusterArn: MSK_ARN, kafkaSecretArn: SECRET_ARN },
      [
        'kafkaSecretArn: only used with kafkaAuth=sasl-scram-512 on MSK, and kafkaAuth is iam (the MSK default): add -c kafkaAuth=sasl-scram-512 or remove kafkaSecretArn',
      ],
    ],
    ['IAM auth on self-managed brokers', { kafkaAuth: 'iam' }, ['kafkaAuth: iam is for MSK only']],
    [
      'cluster ARN on self-managed brokers',
      { mskClusterArn: MSK_ARN },
      [
        'mskClusterArn: only used with kafkaSource=msk, and kafkaSource is self-managed: add -c kafkaSource=msk (or remove mskClusterArn)',
      ],
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
      ['startingPositionTimestamp: not allowed when startingPosition is TRIM_HORIZON'],
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

  it('lists the other problems, the cross-key ones included, next to an unknown key (item 12)', () => {
    const message = errorFor({
      windowSecond: '10',
      smsCriticalOnly: 'yes',
      mskClusterArn: MSK_ARN,
      windowSeconds: '12',
    });
    for (const fragment of [
      'windowSecond: unknown context key (did you mean windowSeconds?)',
      'smsCriticalOnly: must be true or false',
      'mskClusterArn: only used with kafkaSource=msk',
      'windowSeconds: must be a whole multiple of slideSeconds (5) (got 12)',
    ]) {
      expect(message).toContain(fragment);
    }
  });

  it('reports a bad key once, not again as missing in a check across keys', () => {
    const message = errorFor({ kafkaSource: 'msk', mskClusterArn: 'arn:aws:kafka:x' });
    expect(message).toContain('mskClusterArn: must be an MSK cluster ARN');
    expect(message).not.toContain('mskClusterArn: required');
  });

  it("never shows zod's own wording", () => {
    const message = errorFor({
      smsCriticalOnly: 'yes',
      memorySizeMb: '1024MB',
      batchSize: '2.5',
      detector: 'x',
      timeoutSeconds: '0',
    });
    expect(message).not.toMatch(
      /Invalid input|Invalid option|received NaN|Too (big|small)|expected (number|int)/,
    );
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
    expect(detectorEnvironment({ detectorRulesFile: name }, dir)[ENV.detectorRules]).toBe(
      '[{"match":"boiler_*","detector":{"kind":"zscore","sigma":4}}]',
    );
  });

  it('accepts the object form with a default detector', () => {
    const name = file(
      'object.json',
      '{"default": {"kind": "ewma"}, "rules": [{"match": "x", "detector": {"kind": "threshold"}}]}',
    );
    const env = detectorEnvironment({ detectorRulesFile: name }, dir);
    expect(JSON.parse(env[ENV.detectorRules] ?? '')).toMatchObject({
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
    const env = detectorEnvironment({
      ...CDK_JSON_CONTEXT,
      ...DEPLOY_EXAMPLES.mskScramProvisioned.context,
    });
    expect(JSON.parse(env[ENV.detectorRules] ?? '[]')).toHaveLength(3);
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

describe('feature flags (item 14)', () => {
  it('cdk.json sets every flag aws-cdk-lib recommends, with the recommended value', () => {
    const recommended = JSON.parse(
      readFileSync(
        new URL('../../node_modules/aws-cdk-lib/recommended-feature-flags.json', import.meta.url),
        'utf8',
      ),
    ) as Record<string, unknown>;
    expect(Object.keys(recommended).length).toBeGreaterThan(80);
    for (const [flag, value] of Object.entries(recommended)) {
      expect(CDK_JSON_CONTEXT[flag], flag).toEqual(value);
    }
  });
});
