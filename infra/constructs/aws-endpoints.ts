import { Fn, Stack } from 'aws-cdk-lib';
import {
  CfnVPCEndpoint,
  InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  type IVpc,
  Peer,
  Port,
  SecurityGroup,
  Subnet,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { VpcNetworkConfig } from '../kafka-source.ts';

/** An AWS API the detector's functions call from inside a VPC. */
export type AwsApi = 'dynamodb' | 'sns' | 'secretsmanager' | 'events' | 'glue';

const INTERFACE_SERVICES: Readonly<
  Record<Exclude<AwsApi, 'dynamodb'>, InterfaceVpcEndpointAwsService>
> = {
  sns: InterfaceVpcEndpointAwsService.SNS,
  secretsmanager: InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  events: InterfaceVpcEndpointAwsService.EVENTBRIDGE,
  glue: InterfaceVpcEndpointAwsService.GLUE,
};

export interface AwsEndpointsProps {
  readonly network: VpcNetworkConfig;
  /** What the functions in the network call. */
  readonly apis: readonly AwsApi[];
  /** The route tables of the network's subnets: the DynamoDB gateway endpoint's routes. */
  readonly routeTableIds: readonly string[];
  /**
   * The interface endpoints' subnets, at most one per Availability Zone ("You can select one
   * subnet per Availability Zone", AWS PrivateLink guide, "Access an AWS service using an
   * interface VPC endpoint"). @default - the network's first subnet
   */
  readonly endpointSubnetIds?: readonly string[];
}

/**
 * The VPC endpoints through which functions in a VPC reach the AWS APIs they call: a function
 * in a VPC has no internet access of its own (Lambda developer guide, "Giving Lambda functions
 * access to resources in an Amazon VPC", https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html).
 * DynamoDB through a gateway endpoint: a route in the subnets' route tables, with no hourly
 * charge. The others through interface endpoints with private DNS, so that the SDK's regional
 * names resolve to them; private DNS "associate[s] a private hosted zone with the specified
 * VPC ... To use a private hosted zone, you must set the following VPC attributes to true:
 * enableDnsHostnames and enableDnsSupport" (EC2 API reference, CreateVpcEndpoint,
 * PrivateDnsEnabled). One security group admits HTTPS from the functions' group.
 */
export class AwsEndpoints extends Construct {
  readonly gateway?: CfnVPCEndpoint;
  readonly interfaces: readonly InterfaceVpcEndpoint[];

  constructor(scope: Construct, id: string, props: AwsEndpointsProps) {
    super(scope, id);
    const { network } = props;
    if (props.apis.includes('dynamodb'))
      this.gateway = new CfnVPCEndpoint(this, 'DynamoDb', {
        vpcId: network.vpcId,
        serviceName: `com.amazonaws.${Stack.of(this).region}.dynamodb`,
        vpcEndpointType: 'Gateway',
        routeTableIds: [...props.routeTableIds],
      });
    const interfaceApis = props.apis.filter(
      (api): api is Exclude<AwsApi, 'dynamodb'> => api !== 'dynamodb',
    );
    if (interfaceApis.length === 0) {
      this.interfaces = [];
      return;
    }
    const { vpc, group } = endpointNetwork(this, network, {
      vpcId: 'Vpc',
      groupId: 'SecurityGroup',
      description: 'Interface endpoints of the sensor anomaly detector functions',
      from: 'HTTPS from the detector functions',
    });
    const subnets = (props.endpointSubnetIds ?? network.subnetIds.slice(0, 1)).map((subnetId) =>
      Subnet.fromSubnetId(this, `Subnet${subnetId}`, subnetId),
    );
    this.interfaces = interfaceApis.map(
      (api) =>
        new InterfaceVpcEndpoint(this, api, {
          vpc,
          service: INTERFACE_SERVICES[api],
          subnets: { subnets },
          securityGroups: [group],
          open: false,
          privateDnsEnabled: true,
        }),
    );
  }
}

/**
 * The imported VPC and the security group of interface endpoints: no outbound rule, HTTPS in
 * from the functions' security group only. Shared by the AWS API endpoints and the Kafka
 * pollers' SQS endpoint; the construct ids are the caller's, so their logical ids stay.
 */
export function endpointNetwork(
  scope: Construct,
  network: VpcNetworkConfig,
  ids: { vpcId: string; groupId: string; description: string; from: string },
): { vpc: IVpc; group: SecurityGroup } {
  const vpc = Vpc.fromVpcAttributes(scope, ids.vpcId, {
    vpcId: network.vpcId,
    availabilityZones: Fn.getAzs(),
  });
  const group = new SecurityGroup(scope, ids.groupId, {
    vpc,
    description: ids.description,
    allowAllOutbound: false,
  });
  group.addIngressRule(Peer.securityGroupId(network.securityGroupId), Port.tcp(443), ids.from);
  return { vpc, group };
}
