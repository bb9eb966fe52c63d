import { Annotations, type RemovalPolicy } from 'aws-cdk-lib';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { KafkaSourceConfig } from '../kafka-source.ts';
import type { SensorAnomalyDetectorProps } from '../props/detector-props.ts';
import type { NetworkPlan } from '../props/network-plan.ts';
import { KafkaTrigger } from './kafka-trigger.ts';
import { Repartition } from './repartition.ts';

export interface KafkaWiring {
  readonly repartition?: Repartition;
  /** What the detector's mapping reads: the keyed topics with a repartition step. */
  readonly source: KafkaSourceConfig;
  readonly trigger: KafkaTrigger;
}

/**
 * The detector's Kafka side: the repartition step when the topics are unkeyed (in the
 * detector's network when it joins one), then the mapping on what the detector reads, with a
 * warning when its pollers run in a VPC without the SQS endpoint they deliver dead letters to.
 */
export function wireKafka(
  scope: Construct,
  props: SensorAnomalyDetectorProps,
  from: {
    readonly function: LambdaFunction;
    readonly source: KafkaSourceConfig;
    readonly plan: NetworkPlan;
    readonly deadLetterQueue: IQueue;
    readonly removalPolicy: RemovalPolicy;
    /** Checks the consumer groups before the mapping takes them. */
    readonly checkGroups: (source: KafkaSourceConfig) => void;
  },
): KafkaWiring {
  const { source, plan, deadLetterQueue, removalPolicy } = from;
  const brokers =
    props.repartition?.bootstrapServers ??
    (source.kind === 'self-managed' ? source.bootstrapServers : []);
  const repartition =
    props.repartition === undefined
      ? undefined
      : new Repartition(scope, 'Repartition', {
          source,
          bootstrapServers: brokers,
          ...(plan.repartitionJoins && plan.network !== undefined ? { network: plan.network } : {}),
          ...(props.repartition.keyDepth === undefined
            ? {}
            : { keyDepth: props.repartition.keyDepth }),
          deadLetterQueue,
          removalPolicy,
        });
  const read = repartition?.keyedSource ?? source;
  from.checkGroups(read);
  const trigger = new KafkaTrigger(scope, 'Kafka', {
    function: from.function,
    source: read,
    deadLetterQueue,
    removalPolicy,
    ...(props.sqsEndpoint === undefined ? {} : { sqsEndpoint: props.sqsEndpoint }),
  });
  const inVpc = read.kind === 'msk' || read.vpc !== undefined;
  if (inVpc && props.sqsEndpoint === undefined) {
    Annotations.of(scope).addWarningV2(
      'anomaly-detector:sqs-endpoint',
      'The Kafka pollers run in a VPC: they deliver failed batches to the dead-letter queue only through an SQS interface endpoint in that VPC. Create one with createSqsEndpoint=true (context) / sqsEndpoint (construct), unless the VPC already has one.',
    );
  }
  return { ...(repartition === undefined ? {} : { repartition }), source: read, trigger };
}
