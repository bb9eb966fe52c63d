import { type CfnResource, Duration, Fn, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  SecurityGroup,
  Subnet,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  type Function as LambdaFunction,
  SourceAccessConfigurationType,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda';
import {
  AuthenticationMethod,
  type KafkaEventSourceProps,
  SelfManagedKafkaEventSource,
  SqsDlq,
} from 'aws-cdk-lib/aws-lambda-event-sources';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  consumerGroupIds,
  type KafkaSourceConfig,
  type MskSourceConfig,
  type SelfManagedAuth,
  type SelfManagedSourceConfig,
  type VpcNetworkConfig,
} from '../kafka-source.ts';
import { endpointNetwork } from './aws-endpoints.ts';

export interface KafkaTriggerProps {
  readonly function: LambdaFunction;
  readonly source: KafkaSourceConfig;
  /** Where the mapping sends a batch's metadata when it gives up on it. */
  readonly deadLetterQueue: IQueue;
  /** Applies to a credentials secret this construct creates. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * Creates an SQS interface endpoint in this network, so that pollers inside a VPC can
   * reach the dead-letter queue. @default - none (the VPC must already have one)
   */
  readonly sqsEndpoint?: VpcNetworkConfig;
}

/**
 * One Kafka event source mapping per topic (a mapping reads one topic), from an MSK cluster
 * or self-managed brokers, with the permissions each authentication mode needs.
 */
export class KafkaTrigger extends Construct {
  /**
   * The credentials secret, when the stack created it (self-managed SASL/SCRAM without
   * kafkaSecretArn): the operator puts the broker user's credentials into it.
   */
  readonly createdSecret?: Secret;
  /** The SQS interface endpoint, when this construct created one (props.sqsEndpoint). */
  sqsEndpoint?: InterfaceVpcEndpoint;

  constructor(scope: Construct, id: string, props: KafkaTriggerProps) {
    super(scope, id);
    const { source } = props;

    let secret: ISecret | undefined;
    if (source.secretArn !== undefined) {
      secret = Secret.fromSecretCompleteArn(this, 'KafkaSecret', source.secretArn);
      if (source.secretKmsKeyArn !== undefined) {
        // The secret's grantRead cannot grant on an imported key (CDK cannot tell whether
        // it is in this account), so grant decryption through Secrets Manager explicitly.
        props.function.addToRolePolicy(
          new PolicyStatement({
            actions: ['kms:Decrypt'],
            resources: [source.secretKmsKeyArn],
            conditions: {
              StringEquals: {
                'kms:ViaService': `secretsmanager.${source.secretArn.split(':')[3]}.amazonaws.com`,
              },
            },
          }),
        );
      }
    } else if (source.kind === 'self-managed' && source.auth.startsWith('sasl-scram')) {
      this.createdSecret = new Secret(this, 'KafkaCredentials', {
        description:
          'SASL/SCRAM credentials for the Kafka brokers: {"username": ..., "password": ...}',
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username: 'anomaly-detector' }),
          generateStringKey: 'password',
          excludePunctuation: true,
        },
        removalPolicy: props.removalPolicy,
      });
      Validations.of(this.createdSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The secret mirrors a SCRAM user defined on the Kafka brokers, outside AWS; rotating it in Secrets Manager alone would lock the mapping out.',
      });
      secret = this.createdSecret;
    }

    const groups = consumerGroupIds(source);
    const common = (topic: string, index: number): KafkaEventSourceProps => {
      const provisioned = source.provisioned;
      return {
        topic,
        consumerGroupId: groups[index] ?? source.consumerGroupId,
        batchSize: source.batchSize,
        maxBatchingWindow: Duration.seconds(source.batchingWindowSeconds),
        startingPosition: StartingPosition[source.startingPosition],
        ...(source.startingPositionTimestampSeconds === undefined
          ? {}
          : { startingPositionTimestamp: source.startingPositionTimestampSeconds }),
        onFailure: new SqsDlq(props.deadLetterQueue),
        ...(secret === undefined ? {} : { secret }),
        ...(provisioned === undefined
          ? {}
          : {
              provisionedPollerConfig: {
                ...(provisioned.minPollers === undefined
                  ? {}
                  : { minimumPollers: provisioned.minPollers }),
                ...(provisioned.maxPollers === undefined
                  ? {}
                  : { maximumPollers: provisioned.maxPollers }),
                ...(provisioned.pollerGroupName === undefined
                  ? {}
                  : { pollerGroupName: provisioned.pollerGroupName }),
              },
              retryAttempts: provisioned.retryAttempts,
              bisectBatchOnError: provisioned.bisectBatchOnError,
              reportBatchItemFailures: provisioned.reportBatchItemFailures,
              ...(provisioned.maxRecordAgeSeconds === undefined
                ? {}
                : { maxRecordAge: Duration.seconds(provisioned.maxRecordAgeSeconds) }),
            }),
      };
    };

    if (source.kind === 'msk') {
      // The mapping itself, not ManagedKafkaEventSource: that class attaches the
      // AWSLambdaMSKExecutionRole managed policy, whose statement allows logs:CreateLogGroup,
      // logs:CreateLogStream and logs:PutLogEvents on "*" besides the EC2 and kafka actions
      // (AWS managed policy reference, "AWSLambdaMSKExecutionRole",
      // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaMSKExecutionRole.html).
      // The explicit statements below are that policy minus logs (the function's own log group
      // is granted in DetectorFunction) and minus the deprecated kafka:DescribeCluster.
      source.topics.forEach((topic, i) => {
        const options = common(topic, i);
        props.function.addEventSourceMapping(`Msk${i}`, {
          eventSourceArn: source.clusterArn,
          kafkaTopic: topic,
          ...(options.consumerGroupId === undefined
            ? {}
            : { kafkaConsumerGroupId: options.consumerGroupId }),
          startingPosition: options.startingPosition,
          ...(options.startingPositionTimestamp === undefined
            ? {}
            : { startingPositionTimestamp: options.startingPositionTimestamp }),
          batchSize: options.batchSize ?? 100,
          ...(options.maxBatchingWindow === undefined
            ? {}
            : { maxBatchingWindow: options.maxBatchingWindow }),
          ...(options.onFailure === undefined ? {} : { onFailure: options.onFailure }),
          ...(secret === undefined
            ? {}
            : {
                sourceAccessConfigurations: [
                  {
                    type: SourceAccessConfigurationType.SASL_SCRAM_512_AUTH,
                    uri: secret.secretArn,
                  },
                ],
              }),
          ...(options.provisionedPollerConfig === undefined
            ? {}
            : { provisionedPollerConfig: options.provisionedPollerConfig }),
          ...(options.retryAttempts === undefined ? {} : { retryAttempts: options.retryAttempts }),
          ...(options.bisectBatchOnError === undefined
            ? {}
            : { bisectBatchOnError: options.bisectBatchOnError }),
          ...(options.reportBatchItemFailures === undefined
            ? {}
            : { reportBatchItemFailures: options.reportBatchItemFailures }),
          ...(options.maxRecordAge === undefined ? {} : { maxRecordAge: options.maxRecordAge }),
        });
      });
      secret?.grantRead(props.function);
      // "You only need to add one of kafka:DescribeCluster or kafka:DescribeClusterV2" (Lambda
      // developer guide, "Configuring Lambda permissions for Amazon MSK event source mappings",
      // https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html).
      props.function.addToRolePolicy(
        new PolicyStatement({
          actions: ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
          resources: [source.clusterArn],
        }),
      );
      // MSK clusters always live in a VPC: the pollers need network interfaces there.
      this.grantVpcAccess(props.function);
      if (source.auth === 'iam') this.grantMskIamAccess(props.function, source);
    } else {
      const network = this.network(source);
      const rootCaSecret =
        source.rootCaSecretArn === undefined
          ? undefined
          : Secret.fromSecretCompleteArn(this, 'RootCa', source.rootCaSecretArn);
      // The pollers read the CA certificate with the function's role; the event source
      // class grants only its credentials secret.
      rootCaSecret?.grantRead(props.function);
      const rootCa = rootCaSecret === undefined ? {} : { rootCACertificate: rootCaSecret };
      source.topics.forEach((topic, i) => {
        props.function.addEventSource(
          new SelfManagedKafkaEventSource({
            bootstrapServers: [...source.bootstrapServers],
            authenticationMethod: AUTH_METHOD[source.auth],
            ...rootCa,
            ...network,
            ...common(topic, i),
          }),
        );
      });
      if (network.vpc !== undefined) this.grantVpcAccess(props.function);
    }
    if (props.sqsEndpoint !== undefined) this.createSqsEndpoint(props.sqsEndpoint);
  }

  /**
   * "You must deploy a VPC endpoint for your on-failure destination service inside your
   * Kafka cluster VPC." (Lambda developer guide, "Capturing discarded batches for Amazon MSK
   * and self-managed Apache Kafka event sources",
   * https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html). Private DNS makes the
   * queue's regional name resolve to the endpoint; the pollers' security group may reach it
   * on 443.
   */
  private createSqsEndpoint(network: VpcNetworkConfig): void {
    const { vpc, group } = endpointNetwork(this, network, {
      vpcId: 'EndpointVpc',
      groupId: 'SqsEndpointSecurityGroup',
      description: 'SQS interface endpoint for the Kafka pollers (on-failure destination)',
      from: 'HTTPS from the Kafka pollers',
    });
    this.sqsEndpoint = new InterfaceVpcEndpoint(this, 'SqsEndpoint', {
      vpc,
      service: InterfaceVpcEndpointAwsService.SQS,
      // The subnets as given: the caller picks at most one per Availability Zone (see
      // VpcNetworkConfig.subnetIds), since subnets imported by id carry no zone to pick by.
      subnets: {
        subnets: network.subnetIds.map((id) => Subnet.fromSubnetId(this, `Endpoint${id}`, id)),
      },
      securityGroups: [group],
      open: false,
      privateDnsEnabled: true,
    });
  }

  /**
   * IAM access control on MSK: connect to the cluster, read the topics, join the group.
   * https://docs.aws.amazon.com/lambda/latest/dg/msk-cluster-auth.html#msk-iam-auth
   */
  private grantMskIamAccess(fn: LambdaFunction, source: MskSourceConfig): void {
    // arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid> → .../topic/<name>/<uuid>/<topic>
    const resourceArn = (kind: 'topic' | 'group', name: string) =>
      `${source.clusterArn.replace(':cluster/', `:${kind}/`)}/${name}`;
    const groups = consumerGroupIds(source);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'],
        resources: [source.clusterArn],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
        resources: source.topics.map((t) => resourceArn('topic', t)),
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
        resources: groups.map((g) => resourceArn('group', g)),
      }),
    );
  }

  private network(source: SelfManagedSourceConfig) {
    if (source.vpc === undefined) return {};
    const { vpcId, subnetIds, securityGroupId } = source.vpc;
    // Imported by id, nothing looked up, so synth needs no AWS account. The mapping takes
    // the subnets as given; the VPC object only satisfies the event source's props (its
    // zones, a deploy-time token, are never rendered).
    const subnets = subnetIds.map((subnetId) => Subnet.fromSubnetId(this, subnetId, subnetId));
    return {
      vpc: Vpc.fromVpcAttributes(this, 'Vpc', { vpcId, availabilityZones: Fn.getAzs() }),
      vpcSubnets: { subnets },
      securityGroup: SecurityGroup.fromSecurityGroupId(this, 'SecurityGroup', securityGroupId, {
        mutable: false,
      }),
    };
  }

  /**
   * The mapping's pollers reach brokers in a VPC through network interfaces they create
   * with the function's role. https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-permissions.html
   */
  private grantVpcAccess(fn: LambdaFunction): void {
    grantNetworkInterfaces(
      this,
      'PollerNetworkInterfaces',
      fn,
      [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeVpcs',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeSubnets',
        'ec2:DescribeSecurityGroups',
      ],
      'Only the EC2 network-interface actions the Kafka pollers need (CreateNetworkInterface, DeleteNetworkInterface, Describe*): Describe* takes no resource-level permissions, and the interfaces Lambda creates have no ARN before they exist.',
    );
  }
}

/**
 * EC2 network-interface actions on "*" for a function's role, in a policy of their own, so
 * that the cdk-nag acknowledgement covers exactly that statement and no other of the role.
 * The function depends on the policy: Lambda checks the role's EC2 permissions when it
 * creates a function in a VPC, and the mapping's pollers when they start.
 */
export function grantNetworkInterfaces(
  scope: Construct,
  id: string,
  fn: LambdaFunction,
  actions: readonly string[],
  reason: string,
): Policy {
  const policy = new Policy(scope, id, {
    statements: [new PolicyStatement({ actions: [...actions], resources: ['*'] })],
  });
  if (fn.role === undefined) throw new Error(`${fn.node.path} has no role to grant`);
  policy.attachToRole(fn.role);
  // The function resource alone waits for the policy: a dependency of the whole construct would
  // also make a role created inside it (a function's default role) wait for a policy that
  // names that role, a cycle.
  (fn.node.defaultChild as CfnResource).addDependency(policy.node.defaultChild as CfnResource);
  Validations.of(policy).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason });
  return policy;
}

/** `none`: no credentials, which Lambda accepts for brokers inside a VPC only. */
const AUTH_METHOD: Readonly<Record<SelfManagedAuth, AuthenticationMethod | undefined>> = {
  'sasl-scram-512': AuthenticationMethod.SASL_SCRAM_512_AUTH,
  'sasl-scram-256': AuthenticationMethod.SASL_SCRAM_256_AUTH,
  mtls: AuthenticationMethod.CLIENT_CERTIFICATE_TLS_AUTH,
  none: undefined,
};
