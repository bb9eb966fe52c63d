import { Duration, Fn, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type IFunction, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import {
  AuthenticationMethod,
  type KafkaEventSourceProps,
  ManagedKafkaEventSource,
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
} from '../config.ts';

export interface KafkaTriggerProps {
  readonly function: IFunction;
  readonly source: KafkaSourceConfig;
  /** Where the mapping sends a batch's metadata when it gives up on it. */
  readonly deadLetterQueue: IQueue;
  /** Applies to a credentials secret this construct creates. */
  readonly removalPolicy: RemovalPolicy;
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
      source.topics.forEach((topic, i) => {
        props.function.addEventSource(
          new ManagedKafkaEventSource({ clusterArn: source.clusterArn, ...common(topic, i) }),
        );
      });
      if (source.auth === 'iam') this.grantMskIamAccess(props.function, source);
      // ManagedKafkaEventSource attaches this managed policy; it cannot be swapped out.
      Validations.of(props.function.role ?? props.function).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole]',
        reason:
          'Attached by ManagedKafkaEventSource: the mapping manages network interfaces in the cluster VPC, and those EC2 actions take no resource-level scoping.',
      });
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
  }

  /**
   * IAM access control on MSK: connect to the cluster, read the topics, join the group.
   * https://docs.aws.amazon.com/lambda/latest/dg/msk-cluster-auth.html#msk-iam-auth
   */
  private grantMskIamAccess(fn: IFunction, source: MskSourceConfig): void {
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
  private grantVpcAccess(fn: IFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeVpcs',
          'ec2:DeleteNetworkInterface',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
        ],
        resources: ['*'],
      }),
    );
    Validations.of(fn.role ?? fn).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'EC2 Describe* actions take no resource-level permissions, and the network interfaces Lambda creates for the Kafka pollers have no ARN before they exist.',
    });
  }
}

/** `none`: no credentials, which Lambda accepts for brokers inside a VPC only. */
const AUTH_METHOD: Readonly<Record<SelfManagedAuth, AuthenticationMethod | undefined>> = {
  'sasl-scram-512': AuthenticationMethod.SASL_SCRAM_512_AUTH,
  'sasl-scram-256': AuthenticationMethod.SASL_SCRAM_256_AUTH,
  mtls: AuthenticationMethod.CLIENT_CERTIFICATE_TLS_AUTH,
  none: undefined,
};
