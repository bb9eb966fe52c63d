import type { KafkaSinkAuth } from '../adapters/kafka-anomaly-sink.ts';
import { ConfigError } from '../config.ts';
import { KAFKA_SINK_AUTHS, type KafkaSinkAuthName } from '../sinks-config.ts';

/** The repartition function's settings (infra/constructs/repartition.ts sets these names). */
export const REPARTITION_ENV = {
  brokers: 'REPARTITION_KAFKA_BROKERS',
  auth: 'REPARTITION_KAFKA_AUTH',
  secretArn: 'REPARTITION_KAFKA_SECRET_ARN',
  targetTopic: 'REPARTITION_TARGET_TOPIC',
  keyDepth: 'REPARTITION_KEY_DEPTH',
} as const;

export interface RepartitionSettings {
  readonly brokers: readonly string[];
  readonly auth: KafkaSinkAuthName;
  /** SCRAM: `{"username","password"}`; mTLS: `{"certificate","privateKey"}` (PEM). */
  readonly secretArn?: string;
  /** The keyed topic; unset: `<sourceTopic>.by-sensor`. */
  readonly targetTopic?: string;
  /**
   * Key by the first this many `/`-separated parts of the sensor id (its alert group,
   * docs/alerting-groups.md), not the whole id. @default the whole id
   */
  readonly keyDepth?: number;
  readonly region: string;
}

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const BROKER = /^[A-Za-z0-9.-]+:\d{1,5}$/;

export function repartitionSettingsFromEnv(
  env: Record<string, string | undefined>,
): RepartitionSettings {
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const brokers = (get(REPARTITION_ENV.brokers) ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0 || !brokers.every((b) => BROKER.test(b)))
    throw new ConfigError(
      `${REPARTITION_ENV.brokers}: must be host:port,... (got "${env[REPARTITION_ENV.brokers] ?? ''}")`,
    );
  const auth = (get(REPARTITION_ENV.auth) ?? 'none') as KafkaSinkAuthName;
  if (!KAFKA_SINK_AUTHS.includes(auth))
    throw new ConfigError(
      `${REPARTITION_ENV.auth}: must be one of ${KAFKA_SINK_AUTHS.join(', ')} (got "${auth}")`,
    );
  const secretArn = get(REPARTITION_ENV.secretArn);
  if ((auth.startsWith('sasl-scram') || auth === 'mtls') && secretArn === undefined)
    throw new ConfigError(
      `${REPARTITION_ENV.secretArn}: required when ${REPARTITION_ENV.auth} is ${auth}`,
    );
  const targetTopic = get(REPARTITION_ENV.targetTopic);
  if (targetTopic !== undefined && !TOPIC.test(targetTopic))
    throw new ConfigError(
      `${REPARTITION_ENV.targetTopic}: must be a Kafka topic name (got "${targetTopic}")`,
    );
  const depthText = get(REPARTITION_ENV.keyDepth);
  const keyDepth = depthText === undefined ? undefined : Number(depthText);
  if (keyDepth !== undefined && !(Number.isInteger(keyDepth) && keyDepth >= 1 && keyDepth <= 32))
    throw new ConfigError(
      `${REPARTITION_ENV.keyDepth}: must be a whole number from 1 to 32 (got "${depthText}")`,
    );
  return {
    brokers,
    auth,
    ...(secretArn === undefined ? {} : { secretArn }),
    ...(targetTopic === undefined ? {} : { targetTopic }),
    ...(keyDepth === undefined ? {} : { keyDepth }),
    region: get('AWS_REGION') ?? 'us-east-1',
  };
}

/** The producer's authentication, given the secret's JSON for SCRAM and mTLS. */
export function repartitionAuth(settings: RepartitionSettings, secretJson?: string): KafkaSinkAuth {
  if (settings.auth === 'iam') return { kind: 'iam', region: settings.region };
  if (settings.auth === 'none') return { kind: 'none' };
  let secret: Record<string, unknown>;
  try {
    secret = JSON.parse(secretJson ?? '') as Record<string, unknown>;
  } catch {
    throw new ConfigError(`${REPARTITION_ENV.secretArn}: the secret is not a JSON object`);
  }
  const field = (name: string) => {
    const v = secret[name];
    if (typeof v !== 'string' || v === '')
      throw new ConfigError(
        `${REPARTITION_ENV.secretArn}: the secret has no "${name}" (needed for ${settings.auth})`,
      );
    return v;
  };
  if (settings.auth === 'mtls')
    return {
      kind: 'mtls',
      certificatePem: field('certificate'),
      privateKeyPem: field('privateKey'),
    };
  return { kind: settings.auth, username: field('username'), password: field('password') };
}
