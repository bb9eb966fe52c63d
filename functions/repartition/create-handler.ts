import { Logger } from '@aws-lambda-powertools/logger';
import { type KafkaEvent, recordsFromEvent } from '../kafka-event.ts';
import { REPARTITION_SERVICE_NAME } from '../telemetry-names.ts';
import {
  type KeyedProducer,
  keyedTopicOf,
  keyPrefix,
  type RepartitionReport,
  repartitionBatch,
} from './repartition-batch.ts';

export interface RepartitionHandlerDeps {
  readonly producer: KeyedProducer;
  /** The keyed topic for every source topic; unset: `<sourceTopic>.by-sensor`. */
  readonly targetTopic?: string;
  /** Key by this many `/`-separated parts of the sensor id (its group). @default the whole id */
  readonly keyDepth?: number;
  readonly logger?: Logger;
}

export type RepartitionHandler = (event: KafkaEvent) => Promise<RepartitionReport>;

/**
 * The repartition step's Lambda handler (docs/repartition.md): one event source mapping batch
 * of the unkeyed source topic in, its records re-produced keyed by sensor. A produce that
 * fails throws: the mapping retries the batch (from its first record, so the keyed topic gets
 * a prefix of it again, which the detector drops).
 */
export function createRepartitionHandler(deps: RepartitionHandlerDeps): RepartitionHandler {
  const logger = deps.logger ?? new Logger({ serviceName: REPARTITION_SERVICE_NAME });
  const targetTopic =
    deps.targetTopic === undefined ? keyedTopicOf : () => deps.targetTopic as string;
  return async (event) => {
    const records = recordsFromEvent(event);
    const report = await repartitionBatch(records, {
      producer: deps.producer,
      targetTopic,
      ...(deps.keyDepth === undefined ? {} : { keyOf: keyPrefix(deps.keyDepth) }),
    });
    logger.info('batch repartitioned', { ...report });
    return report;
  };
}
