import type { RawRecord } from '../../functions/core/types.ts';
import { CONTEXT_DEFAULTS } from '../../infra/config.ts';

/**
 * How Lambda's Kafka event source mapping cuts a stream into batches, as the parts that feed
 * a stream through the handler (cost, fleet, window close, alert storm) all need it.
 */

/** The event source mapping's defaults as the CDK app deploys them (infra/config.ts). */
export const DEPLOY_BATCHING = {
  batchSize: CONTEXT_DEFAULTS.batchSize,
  batchingWindowMs: CONTEXT_DEFAULTS.batchingWindowSeconds * 1000,
} as const;

/** Batches as Lambda's event source mapping forms them: up to batchSize records, closed when the window ends. */
export function cutLikeEventSourceMapping(
  records: readonly RawRecord[],
  batchSize: number,
  windowMs: number,
): RawRecord[][] {
  const byTime = [...records].sort((a, b) => a.timestampMs - b.timestampMs);
  const batches: RawRecord[][] = [];
  let current: RawRecord[] = [];
  let openedMs = 0;
  for (const r of byTime) {
    if (
      current.length > 0 &&
      (current.length >= batchSize || r.timestampMs >= openedMs + windowMs)
    ) {
      batches.push(current);
      current = [];
    }
    if (current.length === 0) openedMs = r.timestampMs;
    current.push(r);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
