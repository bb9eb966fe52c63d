import { type DetectorSpec, validateDetector } from './detectors.ts';
import { CoreConfigError } from './errors.ts';

/**
 * A per-sensor override: `match` is an exact sensor id or a glob where `*` matches any
 * run of characters and `?` one character (so a prefix rule is `line_1_*`).
 */
export interface DetectorRule {
  readonly match: string;
  readonly detector: DetectorSpec;
  /** Silence limit of the sensors this rule matches (docs/silence.md). @default the file's */
  readonly silenceSeconds?: number;
}

interface CompiledRule {
  readonly rule: DetectorRule;
  readonly pattern: RegExp;
  readonly exact: boolean;
  /** Characters that must match literally: more literal characters = more specific. */
  readonly literalChars: number;
  readonly index: number;
}

/** Resolves a sensor's detector: the most specific matching rule, else the default. */
export type DetectorResolver = (sensorId: string) => DetectorSpec;

export function compileRules(
  defaultDetector: DetectorSpec,
  rules: readonly DetectorRule[],
): DetectorResolver {
  validateDetector(defaultDetector, 'default detector');
  const compiled: CompiledRule[] = rules.map((rule, index) => {
    if (typeof rule.match !== 'string' || rule.match.length === 0) {
      throw new CoreConfigError(`rule ${index}: match must be a non-empty string`);
    }
    validateDetector(rule.detector, `rule ${index} (${rule.match})`);
    const exact = !/[*?]/.test(rule.match);
    return {
      rule,
      pattern: globToRegExp(rule.match),
      exact,
      literalChars: rule.match.replace(/[*?]/g, '').length,
      index,
    };
  });
  // Most specific first: exact ids, then globs with more literal characters; ties keep file order.
  compiled.sort(
    (a, b) =>
      Number(b.exact) - Number(a.exact) || b.literalChars - a.literalChars || a.index - b.index,
  );
  const cache = new Map<string, DetectorSpec>();
  return (sensorId) => {
    let spec = cache.get(sensorId);
    if (spec === undefined) {
      spec = compiled.find((c) => c.pattern.test(sensorId))?.rule.detector ?? defaultDetector;
      // Bounded so a stream of distinct ids cannot grow memory without limit.
      if (cache.size > 100_000) cache.clear();
      cache.set(sensorId, spec);
    }
    return spec;
  };
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}
