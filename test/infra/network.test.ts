import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { SINK_ENV } from '../../functions/sinks-config.ts';
import { parseDeployConfig } from '../../infra/config.ts';
import { placeInNetwork } from '../../infra/constructs/function-network.ts';
import {
  type DetectorNetworkProps,
  KafkaSource,
  SensorAnomalyDetector,
  type SensorAnomalyDetectorProps,
} from '../../infra/index.ts';
import { CDK_JSON_CONTEXT, templateOnlyApp } from './synth.ts';

/**
 * One network for the detector's functions: the anomalies topic, a schema registry inside the
 * VPC and the repartition step all place a function in the same VPC, with one VpcConfig; the
 * VPC's way to AWS APIs is created (create-endpoints) or synth names what to add.
 */

const NETWORK = {
  vpcId: 'vpc-0abc',
  subnetIds: ['subnet-01', 'subnet-02'],
  securityGroupId: 'sg-0123456789abcdef0',
} as const;
const FN = 'AWS::Lambda::Function';

const source = () =>
  KafkaSource.selfManaged({
    bootstrapServers: ['kafka-1.internal:9094'],
    topics: ['readings'],
    auth: 'mtls',
    secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka/client-AbCdEf',
    vpc: NETWORK,
  });

function build(props: SensorAnomalyDetectorProps): { stack: Stack; template: Template } {
  const stack = new Stack(templateOnlyApp(), 'Plant', { env: { region: 'eu-west-1' } });
  new SensorAnomalyDetector(stack, 'D', props);
  return { stack, template: Template.fromStack(stack) };
}

function vpcConfigs(template: Template): unknown[] {
  return Object.values(template.findResources(FN))
    .map((f) => f.Properties.VpcConfig)
    .filter((c) => c !== undefined);
}

describe('the detector network: one VpcConfig whatever needs it', () => {
  const network: DetectorNetworkProps = { ...NETWORK, awsAccess: 'vpc-endpoints' };
  let both: { stack: Stack; template: Template };
  beforeAll(() => {
    both = build({
      kafkaSource: source(),
      anomaliesTopic: { topic: 'anomalies' },
      schemaRegistry: { kind: 'confluent', url: 'http://registry.internal:8081', inNetwork: true },
      network,
    });
  }, 120_000);

  it('the anomalies topic and a registry in the VPC give the detector one VpcConfig', () => {
    const configs = vpcConfigs(both.template);
    // The detector (sink and registry) and the silence check (sink), in the same network.
    expect(configs).toHaveLength(2);
    for (const config of configs)
      expect(config).toEqual({
        SubnetIds: [...NETWORK.subnetIds],
        SecurityGroupIds: [NETWORK.securityGroupId],
      });
    // One network-interface policy per function, not one per feature.
    const policies = Object.keys(both.template.findResources('AWS::IAM::Policy')).filter((id) =>
      /HandlerNetworkInterfaces/.test(id),
    );
    expect(policies).toHaveLength(2);
    expect(new AwsSolutionsChecks().validateScope(both.stack).violations).toEqual([]);
  });

  it('refuses to place one function in two networks', () => {
    const stack = new Stack(templateOnlyApp(), 'Two');
    const fn = new LambdaFunction(stack, 'Fn', {
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => {}'),
    });
    placeInNetwork(fn, NETWORK, 'the anomalies topic');
    placeInNetwork(fn, { ...NETWORK }, 'the schema registry');
    expect(() =>
      placeInNetwork(fn, { ...NETWORK, subnetIds: ['subnet-09'] }, 'the schema registry'),
    ).toThrow(
      'Two/Fn: the schema registry needs vpc-0abc (subnet-09; sg-0123456789abcdef0), but the function is already in vpc-0abc (subnet-01, subnet-02; sg-0123456789abcdef0): a function has one VpcConfig, so give the detector one network',
    );
  });
});

describe("the functions' way from the VPC to AWS APIs", () => {
  it('synth names exactly the endpoints the functions need until told how they reach AWS', () => {
    expect(() =>
      build({
        kafkaSource: source(),
        anomaliesTopic: { topic: 'anomalies' },
        anomaliesEventBus: 'plant-bus',
      }),
    ).toThrow(
      "Plant/D: network.awsAccess: the functions join vpc-0abc to reach the anomalies topic's brokers and then reach AWS only through it: give its subnets (subnet-01, subnet-02) a NAT gateway, or a DynamoDB gateway endpoint (com.amazonaws.<region>.dynamodb) on the subnets’ route tables, interface endpoints with private DNS for sns, secretsmanager and events; then set network.awsAccess ('create-endpoints' to have the construct create them, 'vpc-endpoints' or 'nat-gateway') (not set)",
    );
  });

  it('create-endpoints needs the route tables for the DynamoDB gateway', () => {
    expect(() =>
      build({
        kafkaSource: source(),
        anomaliesTopic: { topic: 'anomalies' },
        network: { ...NETWORK, awsAccess: 'create-endpoints' },
      }),
    ).toThrow(
      "Plant/D: network.routeTableIds: required with network.awsAccess: 'create-endpoints': the DynamoDB gateway endpoint is a route in the route tables of subnet-01, subnet-02 (not set)",
    );
  });

  it('create-endpoints: a DynamoDB gateway on the route tables, interface endpoints with private DNS', () => {
    const { stack, template } = build({
      kafkaSource: source(),
      anomaliesTopic: { topic: 'anomalies' },
      anomaliesEventBus: 'plant-bus',
      network: {
        ...NETWORK,
        awsAccess: 'create-endpoints',
        routeTableIds: ['rtb-01', 'rtb-02'],
        endpointSubnetIds: ['subnet-02'],
      },
    });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcId: NETWORK.vpcId,
      VpcEndpointType: 'Gateway',
      ServiceName: 'com.amazonaws.eu-west-1.dynamodb',
      RouteTableIds: ['rtb-01', 'rtb-02'],
    });
    for (const service of ['sns', 'secretsmanager', 'events'])
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Interface',
        ServiceName: `com.amazonaws.eu-west-1.${service}`,
        PrivateDnsEnabled: true,
        SubnetIds: ['subnet-02'],
      });
    // Nothing else: no glue, no SQS for the functions (the pollers' SQS endpoint is sqsEndpoint).
    expect(Object.keys(template.findResources('AWS::EC2::VPCEndpoint'))).toHaveLength(4);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [
        Match.objectLike({
          FromPort: 443,
          ToPort: 443,
          SourceSecurityGroupId: NETWORK.securityGroupId,
        }),
      ],
    });
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  it('asks nothing when the functions stay outside the VPC', () => {
    const { template } = build({ kafkaSource: source() });
    expect(vpcConfigs(template)).toEqual([]);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });
});

describe('the network from CDK context', () => {
  it('maps the VPC keys, anomaliesVpcAwsAccess and routeTableIds onto the network prop', () => {
    const config = parseDeployConfig({
      ...CDK_JSON_CONTEXT,
      bootstrapServers: 'kafka-1.internal:9094',
      kafkaAuth: 'none',
      vpcId: 'vpc-0abc',
      subnetIds: 'subnet-01,subnet-02',
      securityGroupId: 'sg-0123456789abcdef0',
      anomaliesTopic: 'anomalies',
      anomaliesVpcAwsAccess: 'create-endpoints',
      routeTableIds: 'rtb-01,rtb-02',
    });
    expect(config.props.network).toEqual({
      ...NETWORK,
      awsAccess: 'create-endpoints',
      routeTableIds: ['rtb-01', 'rtb-02'],
    });
  });

  it('names the context keys in the same lines', () => {
    expect(() =>
      parseDeployConfig({
        ...CDK_JSON_CONTEXT,
        bootstrapServers: 'kafka-1.internal:9094',
        kafkaAuth: 'none',
        vpcId: 'vpc-0abc',
        subnetIds: 'subnet-01,subnet-02',
        securityGroupId: 'sg-0123456789abcdef0',
        anomaliesTopic: 'anomalies',
        anomaliesVpcAwsAccess: 'create-endpoints',
      }),
    ).toThrow(
      'routeTableIds: required with -c anomaliesVpcAwsAccess=create-endpoints: the DynamoDB gateway endpoint is a route in the route tables of subnet-01, subnet-02 (not set)',
    );
  });
});

describe("the anomalies topic trusts the brokers' private CA", () => {
  it('gives the detector and the silence check the CA secret, and its read', () => {
    const ca = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka/root-ca-GhIjKl';
    const { template } = build({
      kafkaSource: KafkaSource.selfManaged({
        bootstrapServers: ['kafka-1.example.com:9094'],
        topics: ['readings'],
        auth: 'mtls',
        secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka/client-AbCdEf',
        rootCaSecretArn: ca,
      }),
      anomaliesTopic: { topic: 'anomalies' },
    });
    const functions = Object.values(template.findResources(FN)).filter(
      (f) => f.Properties.Environment?.Variables?.[SINK_ENV.anomaliesTopic] === 'anomalies',
    );
    expect(functions).toHaveLength(2);
    for (const f of functions)
      expect(f.Properties.Environment.Variables[SINK_ENV.anomaliesRootCaSecretArn]).toBe(ca);
    const readers = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]).some(
        (s) => [s.Action].flat().includes('secretsmanager:GetSecretValue') && s.Resource === ca,
      ),
    );
    // The detector's role (the mapping's pollers read the CA with it) and the silence check's.
    expect(readers).toHaveLength(2);
  }, 240_000);
});
