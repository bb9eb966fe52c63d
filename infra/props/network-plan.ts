import type { AwsApi } from '../constructs/aws-endpoints.ts';
import type { KafkaSourceConfig } from '../kafka-source.ts';
import type { DetectorNetworkProps, SensorAnomalyDetectorProps } from './detector-props.ts';

/** Which of the detector's functions join its network, and what they call from there. */
export interface NetworkPlan {
  /** `network`, or the self-managed source's VPC. */
  readonly network?: DetectorNetworkProps;
  readonly detectorJoins: boolean;
  readonly silenceCheckJoins: boolean;
  readonly repartitionJoins: boolean;
  /** Why the functions join, for messages: "the anomalies topic's brokers", … */
  readonly reasons: readonly string[];
  /** The AWS APIs the functions that join call, which the VPC must reach. */
  readonly apis: readonly AwsApi[];
}

/**
 * The functions join the network when what they reach is inside it: the detector and the
 * silence check for the anomalies topic (both publish to it), the detector for a registry
 * `inNetwork`, the repartition step for its brokers. One network for all, so one VpcConfig.
 */
export function networkPlan(
  props: SensorAnomalyDetectorProps,
  source: KafkaSourceConfig | undefined,
): NetworkPlan {
  const network =
    props.network ?? (source?.kind === 'self-managed' ? source.vpc : undefined) ?? undefined;
  const registry = props.schemaRegistry;
  const inNetworkRegistry = registry?.kind === 'confluent' && registry.inNetwork === true;
  const sink = props.anomaliesTopic !== undefined && source !== undefined;
  const silence = (props.silenceCheckMinutes ?? 1) > 0;
  const has = network !== undefined;
  const detectorJoins = has && (sink || inNetworkRegistry);
  const silenceCheckJoins = has && sink && silence;
  const repartitionJoins = has && props.repartition !== undefined && source !== undefined;
  const reasons = [
    ...(sink ? ["the anomalies topic's brokers"] : []),
    ...(inNetworkRegistry ? ['the schema registry'] : []),
    ...(repartitionJoins ? ["the repartition step's brokers"] : []),
  ];
  // A secret the functions read: the mapping's (the sink and the repartition step sign in
  // with it; self-managed SCRAM without one gets a created secret), the brokers' private CA,
  // the registry's credentials.
  const kafkaSecret =
    source !== undefined &&
    source.auth !== 'iam' &&
    source.auth !== 'none' &&
    (source.secretArn !== undefined || source.kind === 'self-managed');
  const rootCa = source?.kind === 'self-managed' && source.rootCaSecretArn !== undefined;
  const apis = new Set<AwsApi>();
  if (detectorJoins || silenceCheckJoins) {
    apis.add('dynamodb').add('sns');
    if (sink && (kafkaSecret || rootCa)) apis.add('secretsmanager');
    if (props.anomaliesEventBus !== undefined) apis.add('events');
  }
  if (detectorJoins && registry?.kind === 'confluent' && registry.basicAuthSecret !== undefined)
    apis.add('secretsmanager');
  if (detectorJoins && registry?.kind === 'glue') apis.add('glue');
  if (repartitionJoins && kafkaSecret) apis.add('secretsmanager');
  const order: readonly AwsApi[] = ['dynamodb', 'sns', 'secretsmanager', 'events', 'glue'];
  return {
    ...(network === undefined ? {} : { network }),
    detectorJoins,
    silenceCheckJoins,
    repartitionJoins,
    reasons,
    apis: order.filter((api) => apis.has(api)),
  };
}
