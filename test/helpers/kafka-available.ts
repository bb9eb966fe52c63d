import { describe } from 'vitest';
import { kcatAvailable } from '../../local/embedded/kafka-mock-cluster.ts';

export const KCAT_MISSING_MESSAGE =
  'kcat not found: install it with `apt-get update && apt-get install -y kcat` (CI does this in .ci/run)';

/**
 * Why Kafka tests cannot run here, or null when they can. On CI (process.env.CI set) a
 * missing kcat is an error, never a skip: a green run must have exercised Kafka.
 */
export const kafkaSkipReason: string | null = (() => {
  if (kcatAvailable()) return null;
  if (process.env.CI) throw new Error(`${KCAT_MISSING_MESSAGE}; CI must not skip the Kafka tests`);
  return KCAT_MISSING_MESSAGE;
})();

if (kafkaSkipReason !== null) console.warn(`[skipping Kafka tests] ${kafkaSkipReason}`);

/** `describe` that skips (with the reason printed once) when kcat is missing outside CI. */
export const describeWithKafka = describe.skipIf(kafkaSkipReason !== null);
