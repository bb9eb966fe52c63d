import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { REPARTITION_ENV } from '../../functions/repartition/config.ts';
import { keyedTopicOf } from '../../functions/repartition/repartition-batch.ts';
import { REPARTITION_SERVICE_NAME } from '../../functions/telemetry-names.ts';
import type { KafkaSourceConfig, VpcNetworkConfig } from '../kafka-source.ts';
import { placeInNetwork } from './function-network.ts';
import { KafkaTrigger } from './kafka-trigger.ts';
import { createNodeFunction } from './node-function.ts';

export interface RepartitionProps {
  /**
   * The unkeyed source: the repartition function's mapping reads its topics, with its
   * cluster, authentication, secret and batching; its consumer group gets `-repartition`.
   */
  readonly source: KafkaSourceConfig;
  /** The brokers the function produces to (the source cluster's bootstrap servers). */
  readonly bootstrapServers: readonly string[];
  /**
   * The brokers' VPC, which the function joins to reach them (one VpcConfig:
   * infra/constructs/function-network.ts).
   * @default - the self-managed source's VPC; none for an MSK source without one
   */
  readonly network?: VpcNetworkConfig;
  /** Where the mapping sends a batch's metadata when it gives up on it. */
  readonly deadLetterQueue: IQueue;
  readonly removalPolicy: RemovalPolicy;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default 60 */
  readonly timeoutSeconds?: number;
  /** @default 512 */
  readonly memorySizeMb?: number;
  /**
   * Key records by the first this many `/`-separated parts of the sensor id (its alert group,
   * docs/alerting-groups.md) instead of the whole id: a group's sensors share a partition, so
   * its alerts are grouped exactly. @default - the whole sensor id
   */
  readonly keyDepth?: number;
}

/**
 * The repartition step (docs/repartition.md): a stateless function with its own Kafka event
 * source mapping on the unkeyed source topics, which re-produces every record to the topic
 * keyed by sensor (`<topic>.by-sensor`), so the detector reads `keyedSource` and each sensor
 * arrives through one partition. The producer uses the source's authentication: MSK IAM gets
 * Connect on the cluster and DescribeTopic, WriteData on the keyed topics only; SCRAM and mTLS
 * read the mapping's secret, which the trigger already grants.
 */
export class Repartition extends Construct {
  readonly function: LambdaFunction;
  readonly trigger: KafkaTrigger;
  readonly logGroup: LogGroup;
  /** The keyed topics, one per source topic, in the source's order. */
  readonly keyedTopics: readonly string[];
  /** The source with the keyed topics: what the detector's mapping reads instead. */
  readonly keyedSource: KafkaSourceConfig;

  constructor(scope: Construct, id: string, props: RepartitionProps) {
    super(scope, id);
    const { source } = props;
    if (props.bootstrapServers.length === 0)
      throw new Error('Repartition: bootstrapServers is empty (the brokers to produce to)');
    const depth = props.keyDepth;
    if (depth !== undefined && !(Number.isInteger(depth) && depth >= 1 && depth <= 32))
      throw new Error(`Repartition: keyDepth must be a whole number from 1 to 32 (got ${depth})`);
    this.keyedTopics = source.topics.map(keyedTopicOf);
    this.keyedSource = { ...source, topics: this.keyedTopics };

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Sensor anomaly detector: the repartition step (unkeyed → keyed by sensor)',
    });
    role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    // The package's one way to build a function: from source in a checkout, prebuilt when
    // installed (node-function.ts).
    this.function = createNodeFunction(this, 'Handler', 'repartition', {
      memorySize: props.memorySizeMb ?? 512,
      timeout: Duration.seconds(props.timeoutSeconds ?? 60),
      role,
      logGroup: this.logGroup,
      description: 'Re-produces the unkeyed sensor topic keyed by sensor (docs/repartition.md)',
      environment: {
        [REPARTITION_ENV.brokers]: props.bootstrapServers.join(','),
        [REPARTITION_ENV.auth]: source.auth,
        ...(source.secretArn !== undefined && source.auth !== 'iam'
          ? { [REPARTITION_ENV.secretArn]: source.secretArn }
          : {}),
        ...(props.keyDepth === undefined
          ? {}
          : { [REPARTITION_ENV.keyDepth]: String(props.keyDepth) }),
        POWERTOOLS_SERVICE_NAME: REPARTITION_SERVICE_NAME,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    this.trigger = new KafkaTrigger(this, 'Kafka', {
      function: this.function,
      source: { ...source, consumerGroupId: `${source.consumerGroupId}-repartition` },
      deadLetterQueue: props.deadLetterQueue,
      removalPolicy: props.removalPolicy,
    });
    if (source.kind === 'msk' && source.auth === 'iam') {
      // "Produce data: kafka-cluster:Connect, kafka-cluster:DescribeTopic,
      // kafka-cluster:WriteData" (Amazon MSK developer guide, "Common use cases for client
      // authorization policy", https://docs.aws.amazon.com/msk/latest/developerguide/iam-access-control-use-cases.html);
      // the topic actions on the keyed topics' ARNs only.
      this.function.addToRolePolicy(
        new PolicyStatement({ actions: ['kafka-cluster:Connect'], resources: [source.clusterArn] }),
      );
      const topicArn = source.clusterArn.replace(':cluster/', ':topic/');
      this.function.addToRolePolicy(
        new PolicyStatement({
          actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
          resources: this.keyedTopics.map((t) => `${topicArn}/${t}`),
        }),
      );
    }
    const network = props.network ?? (source.kind === 'self-managed' ? source.vpc : undefined);
    if (network !== undefined) placeInNetwork(this.function, network, 'the repartition step');
  }
}
