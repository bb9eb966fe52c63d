import { Arn, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SINK_ENV } from '../../functions/sinks-config.ts';
import type { KafkaSourceConfig, VpcNetworkConfig } from '../kafka-source.ts';
import type { SensorAnomalyDetectorProps } from '../props/detector-props.ts';
import { placeInNetwork } from './function-network.ts';

export interface AnomalySinksProps {
  readonly function: LambdaFunction;
  /** The mapping's source: the anomalies topic uses its cluster, auth and secret. */
  readonly source?: KafkaSourceConfig;
  readonly kafka?: {
    readonly topic: string;
    readonly bootstrapServers: readonly string[];
    /**
     * The brokers' network, which the function joins (infra/constructs/function-network.ts:
     * one VpcConfig whatever else needs the network). @default - brokers on the internet
     */
    readonly network?: VpcNetworkConfig;
  };
  /**
   * The mapping's credentials secret, given or created by the stack: the sink signs in with
   * it too. @default - the source's secretArn
   */
  readonly secret?: ISecret;
  /**
   * Grant the function the read of the secrets (and their key) itself: the Kafka trigger
   * grants the mapping's function, not the silence check. @default false
   */
  readonly grantSecretRead?: boolean;
  /** Name or ARN of the EventBridge bus. */
  readonly eventBus?: string;
}

/**
 * The sinks' settings from the detector's props (checked: check-detector-props.ts): the
 * anomalies topic on the mapping's cluster (brokers: given, or the self-managed source's),
 * reached in the detector's network; the EventBridge bus. undefined: no sink.
 */
export function anomalySinksProps(
  props: Pick<SensorAnomalyDetectorProps, 'anomaliesTopic' | 'anomaliesEventBus'>,
  from: {
    readonly function: LambdaFunction;
    readonly source?: KafkaSourceConfig;
    readonly secret?: ISecret;
    readonly network?: VpcNetworkConfig;
  },
): AnomalySinksProps | undefined {
  const t = props.anomaliesTopic;
  if (t === undefined && props.anomaliesEventBus === undefined) return undefined;
  const { source, network } = from;
  const brokers =
    t?.bootstrapServers ?? (source?.kind === 'self-managed' ? source.bootstrapServers : undefined);
  return {
    function: from.function,
    ...(source === undefined ? {} : { source }),
    ...(from.secret === undefined ? {} : { secret: from.secret }),
    ...(t === undefined || brokers === undefined
      ? {}
      : {
          kafka: {
            topic: t.topic,
            bootstrapServers: brokers,
            ...(network === undefined ? {} : { network }),
          },
        }),
    ...(props.anomaliesEventBus === undefined ? {} : { eventBus: props.anomaliesEventBus }),
  };
}

/** Environment and permissions of the anomaly sinks (docs/sinks.md). */
export class AnomalySinks extends Construct {
  constructor(
    scope: Construct,
    id: string,
    private readonly props: AnomalySinksProps,
  ) {
    super(scope, id);
    const fn = props.function;
    if (props.kafka !== undefined) this.kafkaSink(fn, props.kafka, props.source);
    if (props.eventBus !== undefined) {
      const bus = props.eventBus;
      fn.addEnvironment(SINK_ENV.anomaliesEventBus, bus);
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['events:PutEvents'],
          resources: [
            bus.startsWith('arn:')
              ? bus
              : Arn.format(
                  { service: 'events', resource: 'event-bus', resourceName: bus },
                  Stack.of(this),
                ),
          ],
        }),
      );
    }
  }

  private kafkaSink(
    fn: LambdaFunction,
    kafka: NonNullable<AnomalySinksProps['kafka']>,
    source: KafkaSourceConfig | undefined,
  ): void {
    if (source === undefined)
      throw new Error('AnomalySinks: the anomalies topic needs the Kafka source of the mapping');
    fn.addEnvironment(SINK_ENV.anomaliesTopic, kafka.topic);
    fn.addEnvironment(SINK_ENV.anomaliesBrokers, kafka.bootstrapServers.join(','));
    fn.addEnvironment(SINK_ENV.anomaliesAuth, source.auth);
    // The mapping's secret (SCRAM or mTLS), including one the stack created for SCRAM.
    const secret =
      this.props.secret ??
      (source.secretArn === undefined
        ? undefined
        : Secret.fromSecretCompleteArn(this, 'KafkaSecret', source.secretArn));
    if (secret !== undefined && source.auth !== 'iam') {
      fn.addEnvironment(SINK_ENV.anomaliesSecretArn, secret.secretArn);
      if (this.props.grantSecretRead === true) this.grantSecret(fn, secret, source);
    }
    // The brokers' private CA, which the mapping trusts through rootCaSecretArn: without it
    // the producer fails with "unable to verify the first certificate".
    if (source.kind === 'self-managed' && source.rootCaSecretArn !== undefined) {
      fn.addEnvironment(SINK_ENV.anomaliesRootCaSecretArn, source.rootCaSecretArn);
      if (this.props.grantSecretRead === true)
        Secret.fromSecretCompleteArn(this, 'RootCa', source.rootCaSecretArn).grantRead(fn);
    }
    if (source.kind === 'msk' && source.auth === 'iam') {
      // "Produce data: kafka-cluster:Connect, kafka-cluster:DescribeTopic,
      // kafka-cluster:WriteData" (Amazon MSK developer guide, "Common use cases for client
      // authorization policy", https://docs.aws.amazon.com/msk/latest/developerguide/iam-access-control-use-cases.html);
      // Connect is on the cluster, the topic actions on the topic's ARN
      // (arn:aws:kafka:<region>:<account>:topic/<cluster>/<uuid>/<topic>, "Semantics of IAM
      // authorization policy actions and resources", .../kafka-actions.html).
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ['kafka-cluster:Connect'], resources: [source.clusterArn] }),
      );
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
          resources: [`${source.clusterArn.replace(':cluster/', ':topic/')}/${kafka.topic}`],
        }),
      );
    }
    if (kafka.network !== undefined) placeInNetwork(fn, kafka.network, 'the anomalies topic');
  }

  /** The secret's read, and its customer managed key's decryption through Secrets Manager. */
  private grantSecret(fn: LambdaFunction, secret: ISecret, source: KafkaSourceConfig): void {
    secret.grantRead(fn);
    const key = source.secretKmsKeyArn;
    if (key === undefined) return;
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [key],
        // "The kms:ViaService condition key limits use of an AWS KMS key to requests from
        // specified AWS services" (AWS KMS developer guide, "kms:ViaService",
        // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${key.split(':')[3]}.amazonaws.com` },
        },
      }),
    );
  }
}
