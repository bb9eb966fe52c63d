import type { DetectorRule } from './core/detector-rules.ts';
import type { DetectorSpec } from './core/detectors.ts';

/**
 * The detection settings of a config object built in code (the local pipeline, the backtest,
 * the tests), matching the environment's defaults; also the default detector that a rules
 * file without `default` is checked against.
 */
export const DEFAULT_DETECTION = {
  slideMs: 5000,
  windowMs: 10_000,
  defaultDetector: { kind: 'threshold', threshold: 50 } satisfies DetectorSpec,
  rules: [] as DetectorRule[],
  alertCooldownMs: 60_000,
  retentionMarginSeconds: 3600,
  writeConcurrency: 16,
} as const;
