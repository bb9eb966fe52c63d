/**
 * The batch use case lives in functions/batch/ (one file per step); this module keeps the
 * entry points the Lambda handler, the local pipeline and the backtest import.
 */

export { COOLDOWN_CREDIBLE_AHEAD_MS } from './batch/layout.ts';
export { PageCache, PageCache as StateCache } from './batch/page-cache.ts';
export {
  createBatchProcessor,
  type DetectionSettings,
  type ProcessBatchDeps,
} from './batch/process-batch.ts';

/** FNV-1a over UTF-16 code units: a stable spread of sensor ids over n shards. */
export function shardOf(sensorId: string, shards: number): number {
  if (shards <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < sensorId.length; i += 1) {
    h ^= sensorId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}
