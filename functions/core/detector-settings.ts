/**
 * What derives from the list of detector parameters (detector-parameters.ts): one setting per
 * (kind, parameter) with its context key, variable and flag names, its defaults and its checks.
 */
import {
  type CatalogueKind,
  DETECTOR_PARAMETERS,
  DIRECTION_PARAMETER,
  type ParameterInfo,
} from './detector-parameters.ts';

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** One setting of one detector on every surface. */
export interface DetectorSetting extends ParameterInfo {
  readonly kind: CatalogueKind;
  readonly parameter: string;
  /** CDK context key, construct prop and camelCase CLI flag key: `adaptiveScoreThreshold`. */
  readonly key: string;
  /** The function's environment variable: `ADAPTIVE_SCORE_THRESHOLD`. */
  readonly env: string;
  /** The CLI flag: `--adaptive-score-threshold`. */
  readonly flag: string;
}

function setting(kind: CatalogueKind, parameter: string, info: ParameterInfo): DetectorSetting {
  const key = kind === parameter ? kind : `${kind}${upperFirst(parameter)}`;
  return {
    ...info,
    kind,
    parameter,
    key,
    env: snake(key),
    flag: `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
  };
}

/** Every detector setting, flattened: the rows of every derived table. */
export const DETECTOR_SETTINGS: readonly DetectorSetting[] = [
  ...Object.entries(DETECTOR_PARAMETERS).flatMap(([kind, params]) =>
    Object.entries(params as Record<string, ParameterInfo>).map(([parameter, info]) =>
      setting(kind as CatalogueKind, parameter, info),
    ),
  ),
  setting('robust', 'direction', DIRECTION_PARAMETER),
];

/** The defaults of one kind, as a spec without its `kind`. */
export function parameterDefaults(kind: CatalogueKind): Record<string, number | string> {
  return Object.fromEntries(
    DETECTOR_SETTINGS.filter((s) => s.kind === kind).map((s) => [s.parameter, s.default]),
  );
}

/**
 * Checks one raw value (a context value, a variable, a flag) against its setting's bounds.
 * Returns the value parsed, or one line saying what is allowed:
 * `adaptiveScoreThreshold: must be less than 1 (got "1.5")`.
 */
export function checkDetectorSetting(
  s: DetectorSetting,
  raw: unknown,
  name: string = s.key,
): { value: number | string } | { error: string } {
  const got = `(got ${JSON.stringify(typeof raw === 'string' ? raw : String(raw))})`;
  if (s.type === 'enum') {
    const text = String(raw);
    return s.values?.includes(text)
      ? { value: text }
      : { error: `${name}: must be one of ${(s.values ?? []).join(', ')} ${got}` };
  }
  const value =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'string' && raw.trim() !== ''
        ? Number(raw)
        : Number.NaN;
  if (!Number.isFinite(value)) return { error: `${name}: must be a number ${got}` };
  if (s.type === 'integer' && !Number.isInteger(value))
    return { error: `${name}: must be a whole number ${got}` };
  if (s.min !== undefined) {
    if (s.minExclusive && !(value > s.min))
      return { error: `${name}: must be greater than ${s.min} ${got}` };
    if (!s.minExclusive && !(value >= s.min))
      return { error: `${name}: must be at least ${s.min} ${got}` };
  }
  if (s.max !== undefined) {
    if (s.maxExclusive && !(value < s.max))
      return { error: `${name}: must be less than ${s.max} ${got}` };
    if (!s.maxExclusive && !(value <= s.max))
      return { error: `${name}: must be at most ${s.max} ${got}` };
  }
  return { value };
}

/** The allowed range in words, for the docs: `> 0`, `0 … 1 (exclusive)`, `whole, ≥ 1`. */
export function describeBounds(s: ParameterInfo): string {
  if (s.type === 'enum') return (s.values ?? []).map((v) => `\`${v}\``).join(', ');
  const parts: string[] = [];
  if (s.min !== undefined) parts.push(`${s.minExclusive ? '>' : '≥'} ${s.min}`);
  if (s.max !== undefined) parts.push(`${s.maxExclusive ? '<' : '≤'} ${s.max}`);
  if (s.type === 'integer') parts.unshift('whole');
  return parts.join(', ') || 'any';
}
