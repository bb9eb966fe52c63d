import type { DetectorConfig } from '../../functions/config.ts';
import type { StartOptions } from '../flags/start-options.ts';
import type { ConsoleReporter } from '../pipeline/console-reporter.ts';
import type { LocalPipeline } from '../pipeline/local-pipeline.ts';
import { detectionLine } from '../pipeline/start-banner.ts';
import { type LiveView, startLiveView } from './live-server.ts';

/** The live view, its status counters read from the pipeline only while a browser watches. */
export async function startPipelineLiveView(
  options: StartOptions,
  config: DetectorConfig,
  reporter: ConsoleReporter,
  pipeline: () => LocalPipeline | undefined,
): Promise<LiveView> {
  const startedMs = Date.now();
  let last = { atMs: startedMs, processed: 0 };
  return startLiveView({
    port: options.livePort,
    title: `npm start: ${options.topic}`,
    detection: detectionLine(config),
    status: async () => {
      const p = pipeline();
      const stats = p?.stats();
      const partitions = p === undefined ? null : await p.partitionLag().catch(() => null);
      const lag = partitions === null ? null : partitions.reduce((sum, q) => sum + q.lag, 0);
      const now = Date.now();
      const processed = stats?.recordsProcessed ?? 0;
      const rate = ((processed - last.processed) * 1000) / Math.max(1, now - last.atMs);
      last = { atMs: now, processed };
      const t = reporter.totals;
      return {
        atMs: now,
        elapsedSeconds: (now - startedMs) / 1000,
        readingsPerSecond: Math.round(rate * 10) / 10,
        lag,
        partitions:
          partitions?.map(({ partition, lag: behind }) => ({ partition, lag: behind })) ?? null,
        processed,
        batches: stats?.batches ?? 0,
        anomalies: t.anomalies,
        notifications: t.notifications,
        heldBack: t.heldBack,
        rejected: t.rejected,
        retries: t.retries,
      };
    },
  });
}
