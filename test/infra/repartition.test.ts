import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPARTITION_ENV } from '../../functions/repartition/config.ts';
import { SERVICE_NAME } from '../../functions/telemetry-names.ts';
import { KafkaSource, SensorAnomalyDetector } from '../../infra/index.ts';
import { functionOfService, policyStatements, templateOnlyApp } from './synth.ts';

const FN = 'AWS::Lambda::Function';
const ESM = 'AWS::Lambda::EventSourceMapping';
const CLUSTER = 'arn:aws:kafka:eu-west-1:123456789012:cluster/sensors/0f1e2d3c-1';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka-AbCdEf';
const VPC = {
  vpcId: 'vpc-0a1b2c3d4e5f67890',
  subnetIds: ['subnet-0a1b2c3d4e5f67891'],
  securityGroupId: 'sg-0a1b2c3d4e5f67893',
};

/** The function whose service is `service` (POWERTOOLS_SERVICE_NAME). */
function functionOf(template: Template, service: string) {
  const fns = Object.entries(template.findResources(FN)).filter(
    ([, f]) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === service,
  );
  expect(fns).toHaveLength(1);
  return fns[0] as [
    string,
    {
      Properties: Record<string, unknown> & { Environment: { Variables: Record<string, string> } };
    },
  ];
}

/** Topics and consumer group of the mapping of the function with logical id `fn`. */
function mappingOf(template: Template, fn: string) {
  const esms = Object.values(template.findResources(ESM)).filter((m) =>
    JSON.stringify(m.Properties.FunctionName).includes(fn),
  );
  expect(esms).toHaveLength(1);
  const p = (esms[0] as { Properties: Record<string, unknown> }).Properties as {
    Topics: string[];
    SelfManagedKafkaEventSourceConfig?: { ConsumerGroupId: string };
    AmazonManagedKafkaEventSourceConfig?: { ConsumerGroupId: string };
  };
  const group =
    p.SelfManagedKafkaEventSourceConfig?.ConsumerGroupId ??
    p.AmazonManagedKafkaEventSourceConfig?.ConsumerGroupId;
  return { topics: p.Topics, group };
}

describe('the repartition step in the template (docs/repartition.md)', () => {
  let scram: Template;
  let mskIam: Template;
  let plain: Template;
  beforeAll(() => {
    const a = new Stack(templateOnlyApp(), 'Scram');
    new SensorAnomalyDetector(a, 'D', {
      kafkaSource: KafkaSource.selfManaged({
        bootstrapServers: ['b-1.example.com:9096', 'b-2.example.com:9096'],
        topics: ['sensor-data'],
        consumerGroupId: 'detector',
        secretArn: SECRET,
        vpc: VPC,
      }),
      repartition: {},
      // The step reads the SCRAM secret from inside the VPC.
      network: { ...VPC, awsAccess: 'vpc-endpoints' },
    });
    scram = Template.fromStack(a);
    const b = new Stack(templateOnlyApp(), 'MskIam');
    new SensorAnomalyDetector(b, 'D', {
      kafkaSource: KafkaSource.msk({
        clusterArn: CLUSTER,
        topics: ['sensor-data'],
        consumerGroupId: 'detector',
      }),
      repartition: {
        bootstrapServers: ['b-1.sensors.kafka.eu-west-1.amazonaws.com:9098'],
      },
      network: VPC,
    });
    mskIam = Template.fromStack(b);
    const c = new Stack(templateOnlyApp(), 'Plain');
    new SensorAnomalyDetector(c, 'D', {
      kafkaSource: KafkaSource.msk({ clusterArn: CLUSTER, topics: ['sensor-data'] }),
    });
    plain = Template.fromStack(c);
  }, 300_000);

  it('reads the unkeyed topic with its own consumer group; the detector reads the keyed topic', () => {
    const [repartition, fn] = functionOf(scram, 'repartition');
    expect(mappingOf(scram, repartition)).toEqual({
      topics: ['sensor-data'],
      group: 'detector-repartition',
    });
    // The detector's, not the silence check's, the digest's or the repartition step's.
    const { id: detector } = functionOfService(scram, SERVICE_NAME);
    expect(mappingOf(scram, detector)).toEqual({
      topics: ['sensor-data.by-sensor'],
      group: 'detector',
    });
    // Produces to the source's brokers with its SCRAM secret, from inside its VPC.
    expect(fn.Properties.Environment.Variables).toMatchObject({
      [REPARTITION_ENV.brokers]: 'b-1.example.com:9096,b-2.example.com:9096',
      [REPARTITION_ENV.auth]: 'sasl-scram-512',
      [REPARTITION_ENV.secretArn]: SECRET,
    });
    expect(fn.Properties.VpcConfig).toEqual({
      SubnetIds: VPC.subnetIds,
      SecurityGroupIds: [VPC.securityGroupId],
    });
    scram.hasResourceProperties(FN, {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'repartition' }) },
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
    });
  });

  it('MSK IAM: WriteData and DescribeTopic on the keyed topic only, Connect on the cluster', () => {
    const statements = policyStatements(mskIam);
    const write = statements.filter((s) => s.Action.includes('kafka-cluster:WriteData'));
    expect(write.map((s) => s.Resource)).toEqual([
      'arn:aws:kafka:eu-west-1:123456789012:topic/sensors/0f1e2d3c-1/sensor-data.by-sensor',
    ]);
    expect(
      statements.some((s) => s.Action.includes('kafka-cluster:Connect') && s.Resource === CLUSTER),
    ).toBe(true);
    const [repartition, fn] = functionOf(mskIam, 'repartition');
    expect(fn.Properties.Environment.Variables[REPARTITION_ENV.auth]).toBe('iam');
    expect(fn.Properties.Environment.Variables[REPARTITION_ENV.secretArn]).toBeUndefined();
    expect(mappingOf(mskIam, repartition).topics).toEqual(['sensor-data']);
  });

  it('keys by alert group with keyDepth (docs/alerting-groups.md), by sensor without', () => {
    const stack = new Stack(templateOnlyApp(), 'ByGroup');
    new SensorAnomalyDetector(stack, 'D', {
      kafkaSource: KafkaSource.selfManaged({
        bootstrapServers: ['b-1.example.com:9092'],
        topics: ['sensor-data'],
        consumerGroupId: 'detector',
      }),
      repartition: { keyDepth: 2 },
    });
    const [, fn] = functionOf(Template.fromStack(stack), 'repartition');
    expect(fn.Properties.Environment.Variables[REPARTITION_ENV.keyDepth]).toBe('2');
    const [, plainFn] = functionOf(scram, 'repartition');
    expect(plainFn.Properties.Environment.Variables[REPARTITION_ENV.keyDepth]).toBeUndefined();
    expect(
      () =>
        new SensorAnomalyDetector(new Stack(templateOnlyApp(), 'Bad'), 'D', {
          kafkaSource: KafkaSource.selfManaged({
            bootstrapServers: ['b-1.example.com:9092'],
            topics: ['sensor-data'],
            consumerGroupId: 'detector',
          }),
          repartition: { keyDepth: 0 },
        }),
    ).toThrow('Bad/D: repartition.keyDepth: must be at least 1 (got 0)');
  });

  it('is off by default: no repartition function, the detector reads the source topic', () => {
    const fns = Object.values(plain.findResources(FN)).filter(
      (f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'repartition',
    );
    expect(fns).toEqual([]);
    const topics = Object.values(plain.findResources(ESM)).map((m) => m.Properties.Topics);
    expect(topics).toEqual([['sensor-data']]);
  });
});
