import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SINK_ENV } from '../../functions/sinks-config.ts';
import { parseDeployConfig } from '../../infra/config.ts';
import { DEPLOY_EXAMPLES } from '../../infra/examples.ts';
import { detectorFunction, policyStatements, type Synthesized, synthesize } from './synth.ts';

const FN = 'AWS::Lambda::Function';
const CLUSTER = DEPLOY_EXAMPLES.mskIam.context.mskClusterArn;
const CLUSTER_VPC = {
  vpcId: 'vpc-0a1b2c3d4e5f67890',
  subnetIds: 'subnet-0a1b2c3d4e5f67891,subnet-0a1b2c3d4e5f67892',
  securityGroupId: 'sg-0a1b2c3d4e5f67893',
  createSqsEndpoint: 'true',
};

/**
 * The detector's variables. The silence check, deployed beside it, has the same sinks
 * (silence-check.test.ts); the digest function has none of its own.
 */
function detectorEnv(s: Synthesized): Record<string, unknown> {
  return detectorFunction(s.template).Properties.Environment.Variables;
}

describe('anomaly sinks in the template', () => {
  let plain: Synthesized;
  let mskIam: Synthesized;
  let scram: Synthesized;
  beforeAll(() => {
    plain = synthesize(DEPLOY_EXAMPLES.mskIam.context);
    mskIam = synthesize({
      ...DEPLOY_EXAMPLES.mskIam.context,
      ...CLUSTER_VPC,
      anomaliesTopic: 'sensor-anomalies',
      anomaliesBootstrapServers: 'b-1.sensors.kafka.eu-west-1.amazonaws.com:9098',
      anomaliesEventBus: 'sensor-events',
      anomaliesVpcAwsAccess: 'vpc-endpoints',
    });
    scram = synthesize({ ...DEPLOY_EXAMPLES.selfManaged.context, anomaliesTopic: 'anomalies' });
  });

  it('are off by default: no sink variables, no produce or PutEvents grants', () => {
    const env = detectorEnv(plain);
    for (const name of Object.values(SINK_ENV)) expect(env[name]).toBeUndefined();
    const actions = policyStatements(plain.template).flatMap((s) => s.Action);
    expect(actions).not.toContain('kafka-cluster:WriteData');
    expect(actions).not.toContain('events:PutEvents');
  });

  it('MSK IAM: produces with Connect on the cluster and WriteData, DescribeTopic on the topic only', () => {
    const env = detectorEnv(mskIam);
    expect(env).toMatchObject({
      [SINK_ENV.anomaliesTopic]: 'sensor-anomalies',
      [SINK_ENV.anomaliesBrokers]: 'b-1.sensors.kafka.eu-west-1.amazonaws.com:9098',
      [SINK_ENV.anomaliesAuth]: 'iam',
      [SINK_ENV.anomaliesEventBus]: 'sensor-events',
    });
    expect(env[SINK_ENV.anomaliesSecretArn]).toBeUndefined();
    const statements = policyStatements(mskIam.template);
    const topicArn = `${CLUSTER.replace(':cluster/', ':topic/')}/sensor-anomalies`;
    const onTopic = statements.filter((s) => JSON.stringify(s.Resource).includes(topicArn));
    expect(onTopic.flatMap((s) => s.Action).sort()).toEqual(
      expect.arrayContaining(['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData']),
    );
    expect(onTopic.flatMap((s) => s.Action)).not.toContain('kafka-cluster:ReadData');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining(['kafka-cluster:Connect']),
        Resource: CLUSTER,
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['events:PutEvents'],
        Resource: {
          'Fn::Join': [
            '',
            ['arn:aws:events:eu-west-1:', { Ref: 'AWS::AccountId' }, ':event-bus/sensor-events'],
          ],
        },
      }),
    );
  });

  it('MSK: synth names what the functions in the cluster VPC need until told how they reach AWS', () => {
    expect(() =>
      synthesize({
        ...DEPLOY_EXAMPLES.mskIam.context,
        ...CLUSTER_VPC,
        anomaliesTopic: 'sensor-anomalies',
        anomaliesBootstrapServers: 'b-1.sensors.kafka.eu-west-1.amazonaws.com:9098',
      }),
    ).toThrow(
      // MSK IAM signs in without a secret: the functions call DynamoDB and SNS only.
      /the functions join vpc-0a1b2c3d4e5f67890 .* a NAT gateway, or a DynamoDB gateway endpoint .* interface endpoints with private DNS for sns; then set anomaliesVpcAwsAccess \('create-endpoints' to have the construct create them, 'vpc-endpoints' or 'nat-gateway'\) \(not set\)$/,
    );
  });

  it('MSK: the function joins the cluster VPC to reach the brokers', () => {
    mskIam.template.hasResourceProperties(FN, {
      Environment: { Variables: Match.objectLike({ TABLE_NAME: Match.anyValue() }) },
      VpcConfig: {
        SubnetIds: ['subnet-0a1b2c3d4e5f67891', 'subnet-0a1b2c3d4e5f67892'],
        SecurityGroupIds: ['sg-0a1b2c3d4e5f67893'],
      },
    });
    expect(mskIam.nagFindings).toEqual([]);
  });

  it('self-managed SCRAM: the mapping brokers and secret, no VPC, nothing of MSK IAM', () => {
    const env = detectorEnv(scram);
    expect(env).toMatchObject({
      [SINK_ENV.anomaliesTopic]: 'anomalies',
      [SINK_ENV.anomaliesBrokers]: 'b-1.kafka.example.com:9096,b-2.kafka.example.com:9096',
      [SINK_ENV.anomaliesAuth]: 'sasl-scram-512',
      [SINK_ENV.anomaliesSecretArn]: DEPLOY_EXAMPLES.selfManaged.context.kafkaSecretArn,
    });
    const actions = policyStatements(scram.template).flatMap((s) => s.Action);
    expect(actions).not.toContain('kafka-cluster:WriteData');
    expect(actions).toContain('secretsmanager:GetSecretValue');
    scram.template.hasResourceProperties(FN, {
      Environment: { Variables: Match.objectLike({ TABLE_NAME: Match.anyValue() }) },
      VpcConfig: Match.absent(),
    });
    expect(scram.nagFindings).toEqual([]);
  });
});

describe('anomaly sink context keys', () => {
  const problems = (context: Record<string, string>) => {
    try {
      parseDeployConfig(context);
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('on MSK need the brokers and the cluster VPC, named in one line each', () => {
    const message = problems({ ...DEPLOY_EXAMPLES.mskIam.context, anomaliesTopic: 'out' });
    expect(message).toMatch(/anomaliesBootstrapServers: required with anomaliesTopic on MSK/);
    expect(message).toMatch(/anomaliesTopic: on MSK needs vpcId, subnetIds and securityGroupId/);
  });

  it('refuse a topic the function reads, a bad topic name and brokers without a topic', () => {
    const base = DEPLOY_EXAMPLES.selfManaged.context;
    expect(problems({ ...base, anomaliesTopic: 'sensor-readings' })).toMatch(
      /anomaliesTopic: must not be one of the topics the function reads/,
    );
    expect(problems({ ...base, anomaliesTopic: 'bad topic' })).toMatch(
      /anomaliesTopic: must be a Kafka topic name/,
    );
    expect(problems({ ...base, anomaliesBootstrapServers: 'a:1' })).toMatch(
      /anomaliesBootstrapServers: only used with anomaliesTopic/,
    );
    expect(problems({ ...base, anomaliesEventBus: 'no spaces allowed' })).toMatch(
      /anomaliesEventBus: must be an event bus name or ARN/,
    );
    expect(problems({ ...base, anomaliesTopic: 'anomalies' })).toBe('');
  });
});
