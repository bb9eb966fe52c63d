import type { KafkaSinkAuth } from './adapters/kafka-anomaly-sink.ts';
import { ConfigError } from './config.ts';

/**
 * The anomaly sinks' settings, read once at cold start beside the detector's (config.ts).
 * The CDK app sets exactly these names (infra/constructs/anomaly-sinks.ts); none set, no sink.
 */
export const SINK_ENV = {
  anomaliesTopic: 'ANOMALIES_TOPIC',
  anomaliesBrokers: 'ANOMALIES_KAFKA_BROKERS',
  anomaliesAuth: 'ANOMALIES_KAFKA_AUTH',
  anomaliesSecretArn: 'ANOMALIES_KAFKA_SECRET_ARN',
  /** The brokers' private root CA, `{"certificate": PEM}`, as the mapping's rootCaSecretArn. */
  anomaliesRootCaSecretArn: 'ANOMALIES_KAFKA_ROOT_CA_SECRET_ARN',
  anomaliesEventBus: 'ANOMALIES_EVENT_BUS',
} as const;

export const KAFKA_SINK_AUTHS = [
  'iam',
  'sasl-scram-512',
  'sasl-scram-256',
  'mtls',
  'none',
] as const;
export type KafkaSinkAuthName = (typeof KAFKA_SINK_AUTHS)[number];

export interface KafkaSinkSettings {
  readonly topic: string;
  readonly brokers: readonly string[];
  readonly auth: KafkaSinkAuthName;
  /** SCRAM: `{"username","password"}`; mTLS: `{"certificate","privateKey"}` (PEM). */
  readonly secretArn?: string;
  /** `{"certificate": PEM}`: the CA the brokers' certificates chain to. @default - public CAs */
  readonly rootCaSecretArn?: string;
  readonly region: string;
}

export interface SinkSettings {
  readonly kafka?: KafkaSinkSettings;
  /** Name or ARN of the bus. */
  readonly eventBus?: string;
}

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const BROKER = /^[A-Za-z0-9.-]+:\d{1,5}$/;

export function sinkSettingsFromEnv(env: Record<string, string | undefined>): SinkSettings {
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const topic = get(SINK_ENV.anomaliesTopic);
  const eventBus = get(SINK_ENV.anomaliesEventBus);
  const settings: { kafka?: KafkaSinkSettings; eventBus?: string } = {};
  if (eventBus !== undefined) settings.eventBus = eventBus;
  if (topic === undefined) return settings;
  if (!TOPIC.test(topic))
    throw new ConfigError(
      `${SINK_ENV.anomaliesTopic}: must be a Kafka topic name (got "${topic}")`,
    );
  const brokers = (get(SINK_ENV.anomaliesBrokers) ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length === 0 || !brokers.every((b) => BROKER.test(b)))
    throw new ConfigError(
      `${SINK_ENV.anomaliesBrokers}: must be host:port,... with ${SINK_ENV.anomaliesTopic} (got "${env[SINK_ENV.anomaliesBrokers] ?? ''}")`,
    );
  const auth = (get(SINK_ENV.anomaliesAuth) ?? 'none') as KafkaSinkAuthName;
  if (!KAFKA_SINK_AUTHS.includes(auth))
    throw new ConfigError(
      `${SINK_ENV.anomaliesAuth}: must be one of ${KAFKA_SINK_AUTHS.join(', ')} (got "${auth}")`,
    );
  const secretArn = get(SINK_ENV.anomaliesSecretArn);
  if ((auth.startsWith('sasl-scram') || auth === 'mtls') && secretArn === undefined)
    throw new ConfigError(
      `${SINK_ENV.anomaliesSecretArn}: required when ${SINK_ENV.anomaliesAuth} is ${auth}`,
    );
  const rootCaSecretArn = get(SINK_ENV.anomaliesRootCaSecretArn);
  settings.kafka = {
    topic,
    brokers,
    auth,
    ...(secretArn === undefined ? {} : { secretArn }),
    ...(rootCaSecretArn === undefined ? {} : { rootCaSecretArn }),
    region: get('AWS_REGION') ?? 'us-east-1',
  };
  return settings;
}

/**
 * The sink's authentication, given the secret's JSON for SCRAM and mTLS, and the root CA
 * secret's JSON when the brokers use a private CA.
 */
export function kafkaSinkAuth(
  settings: KafkaSinkSettings,
  secretJson?: string,
  rootCaJson?: string,
): KafkaSinkAuth {
  const ca = rootCaJson === undefined ? {} : { caPem: rootCaPem(rootCaJson) };
  if (settings.auth === 'iam') return { kind: 'iam', region: settings.region };
  if (settings.auth === 'none')
    return rootCaJson === undefined ? { kind: 'none' } : { kind: 'none', tls: true, ...ca };
  let secret: Record<string, unknown>;
  try {
    secret = JSON.parse(secretJson ?? '') as Record<string, unknown>;
  } catch {
    throw new ConfigError(`${SINK_ENV.anomaliesSecretArn}: the secret is not a JSON object`);
  }
  const field = (name: string) => {
    const v = secret[name];
    if (typeof v !== 'string' || v === '')
      throw new ConfigError(
        `${SINK_ENV.anomaliesSecretArn}: the secret has no "${name}" (needed for ${settings.auth})`,
      );
    return v;
  };
  if (settings.auth === 'mtls') {
    return {
      kind: 'mtls',
      certificatePem: field('certificate'),
      privateKeyPem: field('privateKey'),
      ...ca,
    };
  }
  return {
    kind: settings.auth,
    username: field('username'),
    password: field('password'),
    ...ca,
  };
}

/** The root CA secret holds `{"certificate": PEM}`, as for the event source mapping. */
function rootCaPem(json: string): string {
  let certificate: unknown;
  try {
    certificate = (JSON.parse(json) as Record<string, unknown>).certificate;
  } catch {
    throw new ConfigError(`${SINK_ENV.anomaliesRootCaSecretArn}: the secret is not a JSON object`);
  }
  if (typeof certificate !== 'string' || certificate === '')
    throw new ConfigError(
      `${SINK_ENV.anomaliesRootCaSecretArn}: the secret has no "certificate" (the root CA, PEM)`,
    );
  return certificate;
}
