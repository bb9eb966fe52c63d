import { type DetectorSpec, validateDetector } from './detectors.ts';
import { CoreConfigError } from './errors.ts';

/**
 * A per-sensor override: `match` is an exact sensor id or a glob where `*` matches any
 * run of characters and `?` one character (so a prefix rule is `line_1_*`). `topic`, when
 * given, restricts the rule to records of that Kafka topic (an exact name or a glob, the same
 * syntax); a rule without `topic` applies on every topic and to readings that have none.
 */
export interface DetectorRule {
  readonly match: string;
  readonly topic?: string;
  readonly detector: DetectorSpec;
  /** Silence limit of the sensors this rule matches (docs/silence.md). @default the file's */
  readonly silenceSeconds?: number;
  /**
   * Anomalies of readings older than this (processing time) go to the digest only
   * (docs/alerting.md); 0: never stale. @default the file's, else the function's
   */
  readonly freshnessSeconds?: number;
}

interface CompiledRule {
  readonly rule: DetectorRule;
  readonly pattern: RegExp;
  readonly topicPattern: RegExp | null;
  /** The specificity key, compared element by element, larger first (docs/rules.md). */
  readonly rank: readonly [number, number, number, number];
  readonly index: number;
}

/**
 * Resolves a sensor's detector: the most specific matching rule, else the default. `topic` is
 * the Kafka topic the reading came from; '' or absent (a backtest file, a bare reading) means
 * none, and then only rules without `topic` apply.
 */
export type DetectorResolver = (sensorId: string, topic?: string) => DetectorSpec;

/** Resolutions a resolver remembers, over all topics: a stream of new ids cannot grow it. */
const MAX_CACHED = 100_000;

/**
 * The rules' resolver. Specificity, larger first, then file order (docs/rules.md):
 *  1. an exact sensor id beats a sensor-id glob;
 *  2. more literal (non-wildcard) characters in `match`;
 *  3. an exact `topic` beats a topic glob, which beats no `topic`;
 *  4. more literal characters in `topic`.
 * So among rules whose id patterns are equally specific, the one naming the topic wins, and
 * an exact-id override applies on every topic unless a rule names both.
 */
export function compileRules(
  defaultDetector: DetectorSpec,
  rules: readonly DetectorRule[],
): DetectorResolver {
  validateDetector(defaultDetector, 'default detector');
  const compiled: CompiledRule[] = rules.map((rule, index) => {
    if (typeof rule.match !== 'string' || rule.match.length === 0) {
      throw new CoreConfigError(`rule ${index}: match must be a non-empty string`);
    }
    if (rule.topic !== undefined && (typeof rule.topic !== 'string' || rule.topic.length === 0)) {
      throw new CoreConfigError(`rule ${index} (${rule.match}): topic must be a non-empty string`);
    }
    const where = rule.topic === undefined ? rule.match : `${rule.topic}/${rule.match}`;
    validateDetector(rule.detector, `rule ${index} (${where})`);
    const topic = rule.topic;
    return {
      rule,
      pattern: globToRegExp(rule.match),
      topicPattern: topic === undefined ? null : globToRegExp(topic),
      rank: [
        isGlob(rule.match) ? 0 : 1,
        literalChars(rule.match),
        topic === undefined ? 0 : isGlob(topic) ? 1 : 2,
        topic === undefined ? 0 : literalChars(topic),
      ],
      index,
    };
  });
  compiled.sort((a, b) => compareRank(b.rank, a.rank) || a.index - b.index);
  const withTopic = compiled;
  const withoutTopic = compiled.filter((c) => c.topicPattern === null);

  // By topic, then sensor id; the last topic's map is kept at hand, as a batch reads a
  // partition's records together.
  const cache = new Map<string, Map<string, DetectorSpec>>();
  let cached = 0;
  let lastTopic: string | undefined;
  let lastMap: Map<string, DetectorSpec> | undefined;
  return (sensorId, topic = '') => {
    let byId = lastMap;
    if (topic !== lastTopic || byId === undefined) {
      byId = cache.get(topic);
      if (byId === undefined) {
        byId = new Map();
        cache.set(topic, byId);
      }
      lastTopic = topic;
      lastMap = byId;
    }
    let spec = byId.get(sensorId);
    if (spec === undefined) {
      const candidates = topic === '' ? withoutTopic : withTopic;
      spec =
        candidates.find(
          (c) =>
            c.pattern.test(sensorId) && (c.topicPattern === null || c.topicPattern.test(topic)),
        )?.rule.detector ?? defaultDetector;
      if (cached >= MAX_CACHED) {
        cache.clear();
        cached = 0;
        byId = new Map();
        cache.set(topic, byId);
        lastMap = byId;
      }
      byId.set(sensorId, spec);
      cached += 1;
    }
    return spec;
  };
}

function compareRank(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i += 1) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

const isGlob = (pattern: string) => /[*?]/.test(pattern);
const literalChars = (pattern: string) => pattern.replace(/[*?]/g, '').length;

export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}
