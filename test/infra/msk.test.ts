import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/config.ts';
import { DEPLOY_EXAMPLES } from '../../infra/examples.ts';
import {
  invokeBundleWithEmptyBatch,
  onlyLogicalId,
  policyStatements,
  type Synthesized,
  synthesize,
} from './synth.ts';

const ESM = 'AWS::Lambda::EventSourceMapping';
const CLUSTER = DEPLOY_EXAMPLES.mskIam.context.mskClusterArn;
/** arn:...:cluster/<name>/<uuid> → arn:...:<kind>/<name>/<uuid>/<name of topic or group> */
const clusterResource = (kind: 'topic' | 'group', name: string) =>
  `${CLUSTER.replace(':cluster/', `:${kind}/`)}/${name}`;

let iam: Synthesized;
let scram: Synthesized;
beforeAll(() => {
  iam = synthesize(DEPLOY_EXAMPLES.mskIam.context);
  scram = synthesize(DEPLOY_EXAMPLES.mskScramProvisioned.context);
});

describe('MSK example with IAM access control', () => {
  it('maps the cluster topic without credentials (IAM auth) and deploys in the cluster region', () => {
    const queue = onlyLogicalId(iam.template, 'AWS::SQS::Queue');
    iam.template.resourceCountIs(ESM, 1);
    iam.template.hasResourceProperties(ESM, {
      EventSourceArn: CLUSTER,
      Topics: ['sensor-readings'],
      AmazonManagedKafkaEventSourceConfig: {
        ConsumerGroupId: 'SensorAnomalyDetector-anomaly-detector',
      },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10000,
      SourceAccessConfigurations: Match.absent(),
      SelfManagedEventSource: Match.absent(),
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
      ProvisionedPollerConfig: Match.absent(),
    });
    iam.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(iam.stack.region).toBe('eu-west-1');
  });

  it('grants IAM access to exactly the cluster, the topic and the consumer group', () => {
    const statements = policyStatements(iam.template);
    // minimizePolicies merges the IAM-auth and the mapping's statements on the cluster.
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining([
          'kafka-cluster:Connect',
          'kafka-cluster:DescribeClusterDynamicConfiguration',
        ]),
        Resource: CLUSTER,
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
        Resource: clusterResource('topic', 'sensor-readings'),
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
        Resource: clusterResource('group', 'SensorAnomalyDetector-anomaly-detector'),
      }),
    );
    expect(statements.flatMap((s) => s.Action).filter((a) => a.includes('*'))).toEqual([]);
  });

  it('has explicit MSK statements instead of AWSLambdaMSKExecutionRole and its logs:* on * (item 6)', () => {
    iam.template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    expect(JSON.stringify(iam.template.toJSON())).not.toContain('AWSLambdaMSKExecutionRole');
    const statements = policyStatements(iam.template);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining(['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers']),
        Resource: CLUSTER,
      }),
    );
    expect(statements.flatMap((s) => s.Action)).not.toContain('kafka:DescribeCluster');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: [
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSubnets',
          'ec2:DescribeVpcs',
        ],
        Resource: '*',
      }),
    );
    // Logs only into the function's own log group.
    for (const s of statements.filter((s) => s.Action.some((a) => a.startsWith('logs:')))) {
      expect(s.Action).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(s.Resource).not.toBe('*');
    }
    expect(iam.nagFindings).toEqual([]);
  });

  it('subscribes the alert and ops emails', () => {
    iam.template.resourceCountIs('AWS::SNS::Subscription', 2);
  });
});

describe('MSK example with SASL/SCRAM, provisioned pollers and per-sensor rules', () => {
  it('maps the cluster with the SCRAM secret and may decrypt it with its customer managed key (item 3)', () => {
    const ctx = DEPLOY_EXAMPLES.mskScramProvisioned.context;
    expect(ctx.kafkaSecretArn).toContain(':secret:AmazonMSK_');
    scram.template.hasResourceProperties(ESM, {
      SourceAccessConfigurations: [{ Type: 'SASL_SCRAM_512_AUTH', URI: ctx.kafkaSecretArn }],
    });
  });

  it('authenticates with the SCRAM secret and uses provisioned pollers with a retry limit', () => {
    const ctx = DEPLOY_EXAMPLES.mskScramProvisioned.context;
    scram.template.hasResourceProperties(ESM, {
      EventSourceArn: CLUSTER,
      SourceAccessConfigurations: [{ Type: 'SASL_SCRAM_512_AUTH', URI: ctx.kafkaSecretArn }],
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 4 },
      MaximumRetryAttempts: 100,
      // The function fails whole batches only on infrastructure errors and never reports
      // item failures, so bisecting and partial responses stay off by default.
      BisectBatchOnFunctionError: false,
      FunctionResponseTypes: Match.absent(),
    });
  });

  it('may read the secret and decrypt it with its key, and has no IAM-auth grants', () => {
    const ctx = DEPLOY_EXAMPLES.mskScramProvisioned.context;
    const statements = policyStatements(scram.template);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: ctx.kafkaSecretArn,
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['kms:Decrypt'],
        Resource: ctx.kafkaSecretKmsKeyArn,
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      }),
    );
    expect(
      statements.flatMap((s) => s.Action).filter((a) => a.startsWith('kafka-cluster:')),
    ).toEqual([]);
    expect(scram.nagFindings).toEqual([]);
  });

  it('passes the rules file, minified, in DETECTOR_RULES', () => {
    const file = DEPLOY_EXAMPLES.mskScramProvisioned.context.detectorRulesFile;
    const rules = JSON.stringify(JSON.parse(readFileSync(file, 'utf8')));
    scram.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.detectorRules]: rules }) },
    });
  });

  it('ships a bundle whose cold-start validation accepts those rules', async () => {
    expect(await invokeBundleWithEmptyBatch(scram)).toMatchObject({ records: 0 });
  });

  it('sends SMS to both numbers for critical anomalies only', () => {
    for (const number of ['+14155550100', '+442071838750']) {
      scram.template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'sms',
        Endpoint: number,
        FilterPolicy: { kind: ['alert'], severity: ['critical'] },
      });
    }
  });
});
