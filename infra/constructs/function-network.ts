import type { CfnFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SensorAnomalyDetectorError } from '../errors.ts';
import type { VpcNetworkConfig } from '../kafka-source.ts';
import { grantNetworkInterfaces } from './kafka-trigger.ts';

/** The network each function was placed in, so that a second caller finds it there. */
const PLACED = new WeakMap<LambdaFunction, VpcNetworkConfig>();

/**
 * Places a function in a VPC: the one place that sets its VpcConfig (on the L1 resource: the
 * function was built without a VPC), so that the anomaly sinks, the schema registry and the
 * repartition step, which each need the network, agree on one configuration instead of the
 * last override winning. A second call with the same network does nothing; with another, it
 * throws, since a function has one VpcConfig.
 *
 * The role gets what AWSLambdaVPCAccessExecutionRole grants for the network interfaces
 * ("ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces, ec2:DescribeSubnets,
 * ec2:DeleteNetworkInterface, ec2:AssignPrivateIpAddresses, ec2:UnassignPrivateIpAddresses" on
 * "*", https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html),
 * in a policy of its own so that the cdk-nag acknowledgement covers that statement only.
 */
export function placeInNetwork(fn: LambdaFunction, network: VpcNetworkConfig, why: string): void {
  const placed = PLACED.get(fn);
  if (placed !== undefined) {
    if (sameNetwork(placed, network)) return;
    throw new SensorAnomalyDetectorError(
      `${fn.node.path}: ${why} needs ${describe(network)}, but the function is already in ${describe(placed)}: a function has one VpcConfig, so give the detector one network`,
    );
  }
  PLACED.set(fn, network);
  (fn.node.defaultChild as CfnFunction).addPropertyOverride('VpcConfig', {
    SubnetIds: [...network.subnetIds],
    SecurityGroupIds: [network.securityGroupId],
  });
  grantNetworkInterfaces(
    fn.node.scope ?? fn,
    `${fn.node.id}NetworkInterfaces`,
    fn,
    [
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
    ],
    'Only the EC2 network-interface actions of AWSLambdaVPCAccessExecutionRole, for the function in the VPC: the Describe* actions take no resource-level permissions, and the interfaces Lambda creates have no ARN before they exist.',
  );
}

/** The network a function was placed in, if any. */
export function networkOf(fn: LambdaFunction): VpcNetworkConfig | undefined {
  return PLACED.get(fn);
}

function sameNetwork(a: VpcNetworkConfig, b: VpcNetworkConfig): boolean {
  return (
    a.vpcId === b.vpcId &&
    a.securityGroupId === b.securityGroupId &&
    a.subnetIds.join(',') === b.subnetIds.join(',')
  );
}

function describe(n: VpcNetworkConfig): string {
  return `${n.vpcId} (${n.subnetIds.join(', ')}; ${n.securityGroupId})`;
}
