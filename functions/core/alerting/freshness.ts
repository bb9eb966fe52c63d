import { compileRules, type DetectorRule } from '../detector-rules.ts';
import type { DetectorSpec } from '../detectors.ts';
import { DEFAULT_FRESHNESS_MS } from './notification-policy.ts';

/** The freshness limit (ms) of a sensor's readings on a topic (absent or '': none). */
export type FreshnessResolver = (sensorId: string, topic?: string) => number;

/**
 * `freshnessSeconds` of the rule that picks the sensor's detector (compileRules' most
 * specific match, as for silenceSeconds), else the rules file's or the function's
 * `freshnessSeconds`, else 5 minutes. 0 means never stale: every anomaly goes through the
 * cooldown whatever its age (the behaviour before freshness limits).
 */
export function compileFreshness(
  defaultDetector: DetectorSpec,
  rules: readonly DetectorRule[],
  defaultSeconds: number | undefined,
): FreshnessResolver {
  const fallback = toMs(defaultSeconds) ?? DEFAULT_FRESHNESS_MS;
  if (!rules.some((r) => r.freshnessSeconds !== undefined)) return () => fallback;
  // Each rule's detector as a fresh object, so the spec compileRules returns names its rule.
  const byDetector = new Map<DetectorSpec, DetectorRule>();
  const copies = rules.map((rule) => {
    const detector = { ...rule.detector } as DetectorSpec;
    byDetector.set(detector, rule);
    return { ...rule, detector };
  });
  const resolve = compileRules(defaultDetector, copies);
  return (sensorId, topic) =>
    toMs(byDetector.get(resolve(sensorId, topic))?.freshnessSeconds) ?? fallback;
}

function toMs(seconds: number | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  return seconds === 0 ? Number.POSITIVE_INFINITY : seconds * 1000;
}
