import { readSecretString } from '../adapters/secret-reader.ts';
import { repartitionAuth, repartitionSettingsFromEnv } from './config.ts';
import { createRepartitionHandler } from './create-handler.ts';
import { KafkaKeyedProducer } from './kafka-keyed-producer.ts';

/**
 * Lambda entry of the repartition step (docs/repartition.md), invoked by the event source
 * mapping of the unkeyed source topic. Settings validated once at cold start; the producer
 * (and its connections) kept by a warm container.
 */
const settings = repartitionSettingsFromEnv(process.env);
const secretArn = settings.secretArn;

export const handler = createRepartitionHandler({
  producer: new KafkaKeyedProducer({
    brokers: settings.brokers,
    auth:
      secretArn === undefined
        ? repartitionAuth(settings)
        : async () => repartitionAuth(settings, await readSecretString(secretArn, settings.region)),
  }),
  ...(settings.targetTopic === undefined ? {} : { targetTopic: settings.targetTopic }),
  ...(settings.keyDepth === undefined ? {} : { keyDepth: settings.keyDepth }),
});
