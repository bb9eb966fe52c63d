import type { DetectorConfig } from '../../functions/config.ts';
import { seenGranularityMs, silenceLimits } from '../../functions/core/silence.ts';

/**
 * Runs the silence check every `intervalMs`, one check at a time, as the deployed function's
 * reserved concurrency of 1 makes it. Returns the stop, which waits for a check under way.
 */
export function runEvery(
  intervalMs: number,
  check: () => Promise<unknown>,
  onError?: (error: unknown) => void,
): () => Promise<void> {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    running ??= check()
      .then(
        () => {},
        (error: unknown) => onError?.(error),
      )
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** How often `npm start` checks when its start-time rules set no limit (a few reads). */
const IDLE_SILENCE_CHECK_MS = 2000;

/**
 * How often `npm start` runs the silence check: a quarter of the smallest limit, 1–60 s (the
 * deployed schedule runs every minute); every 2 s when no start-time rule sets silenceSeconds,
 * so a rules document that sets one later is followed within seconds.
 */
export function silenceCheckMs(config: DetectorConfig): number {
  const limits = silenceLimits(config.rules, config.silenceSeconds);
  if (limits.length === 0) return IDLE_SILENCE_CHECK_MS;
  const quarter = Math.ceil(Math.min(...limits) / 4) * 1000;
  return Math.max(seenGranularityMs(limits), Math.min(60_000, quarter));
}
