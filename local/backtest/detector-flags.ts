import { detectorSpecSchema } from '../../functions/config.ts';
import {
  ADAPTIVE_DEFAULTS,
  DETECTOR_KINDS,
  type DetectorKind,
  type DetectorSpec,
  EWMA_DEFAULTS,
  ZSCORE_DEFAULTS,
} from '../../functions/core/detectors.ts';
import { UsageError } from '../cli/parse-flags.ts';

/**
 * The detector flags every local CLI shares (`npm run backtest`, `npm start`), one per
 * parameter of each detector, named `--<kind>-<parameter in kebab case>` (`--threshold` for
 * the threshold detector's one): the same parameters as a rules file's `{"kind": …}` and the
 * function's environment variables (functions/config.ts), validated by the same schema.
 *
 * Use: add DETECTOR_FLAG_NAMES to the CLI's string options, print DETECTOR_FLAGS_HELP in its
 * help, and call detectorFromFlags(parsedFlags) for the default detector.
 */
const PARAMETERS = {
  threshold: { threshold: 50 },
  zscore: ZSCORE_DEFAULTS,
  ewma: EWMA_DEFAULTS,
  adaptive: ADAPTIVE_DEFAULTS,
} as const satisfies Record<DetectorKind, Record<string, number>>;

const kebab = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

interface DetectorFlag {
  readonly kind: DetectorKind;
  readonly parameter: string;
  /** camelCase, as parseFlags returns it. */
  readonly key: string;
  readonly flag: string;
  readonly defaultValue: number;
}

export const DETECTOR_FLAGS: readonly DetectorFlag[] = Object.entries(PARAMETERS).flatMap(
  ([kind, params]) =>
    Object.entries(params).map(([parameter, defaultValue]) => {
      const key = kind === parameter ? kind : `${kind}${upperFirst(parameter)}`;
      return {
        kind: kind as DetectorKind,
        parameter,
        key,
        flag: `--${kebab(key)}`,
        defaultValue,
      };
    }),
);

/** For parseFlags: `detector` and every parameter flag, in kebab case without dashes. */
export const DETECTOR_FLAG_NAMES: readonly string[] = [
  'detector',
  ...DETECTOR_FLAGS.map((f) => f.flag.slice(2)),
];

const MEANING: Record<string, string> = {
  threshold: '|value - window avg| > X',
  zscoreSigma: 'k of k·σ of the window',
  zscoreMinCount: 'readings in the window before flagging',
  zscoreMinDeviation: 'never flag |value - avg| <= X',
  ewmaHalfLifeReadings: 'readings until a reading’s weight halves',
  ewmaSigma: 'k of the k·σ band',
  ewmaWarmupReadings: 'readings learned before flagging',
  ewmaMinRelativeDeviation: 'band >= F·|mean|',
  ewmaMinDeviation: 'band >= X',
  ewmaLevelShiftReadings: 'out-of-band run that is a new level',
  adaptiveHalfLifeReadings: 'half-life of the learned level and spread',
  adaptiveEnvelopeHalfLifeReadings: 'half-life of the recent envelope',
  adaptiveExtremeHalfLifeReadings: 'half-life of the long-term (new extreme) envelope',
  adaptiveSigma: 'breakout, in σ, that is a raw anomaly of 0.5',
  adaptiveExtremeMargin: 'new extreme beyond the range by F of it scores 0.5',
  adaptiveExtremeMaturityReadings: 'readings until the range is trusted',
  adaptiveScoreThreshold: 'anomaly iff score > X',
  adaptiveWarmupReadings: 'readings learned before flagging',
  adaptiveRefractoryReadings: 'readings not flagged after an anomaly',
  adaptiveMinSpreadFraction: 'σ >= F·(long-term range)',
  adaptiveMinDeviation: 'σ >= X',
};

/** The help lines for the detector flags. */
export const DETECTOR_FLAGS_HELP = [
  `  --detector D            ${DETECTOR_KINDS.join(' | ')}       (default threshold)`,
  ...DETECTOR_FLAGS.map((f) => {
    const left = `  ${f.flag} X`;
    const meaning = `${f.kind === 'threshold' ? 'threshold' : f.kind}: ${MEANING[f.key] ?? f.parameter}`;
    return `${left.padEnd(46)} ${meaning} (default ${f.defaultValue})`;
  }),
].join('\n');

/**
 * The detector the flags choose (`--detector`, default threshold) with the parameters given,
 * the others at their defaults. A UsageError names the flag of a bad value, or of a parameter
 * given for another detector than the chosen one.
 */
export function detectorFromFlags(
  flags: Readonly<Record<string, string | boolean | undefined>>,
): DetectorSpec {
  const kindText = flags.detector;
  if (kindText !== undefined && !(DETECTOR_KINDS as readonly unknown[]).includes(kindText)) {
    throw new UsageError(
      `--detector: one of ${DETECTOR_KINDS.join(', ')} (got ${JSON.stringify(kindText)})`,
    );
  }
  const kind = (kindText ?? 'threshold') as DetectorKind;
  // Each given parameter, grouped by its detector, validated by that detector's schema first
  // (a bad value is named as such), then checked to belong to the chosen detector.
  const byKind = new Map<DetectorKind, Record<string, unknown>>([[kind, { kind }]]);
  const problems: string[] = [];
  for (const f of DETECTOR_FLAGS) {
    const given = flags[f.key];
    if (given === undefined) continue;
    const value = typeof given === 'string' && given.trim() !== '' ? Number(given) : Number.NaN;
    if (!Number.isFinite(value)) {
      problems.push(`${f.flag}: a number (got ${JSON.stringify(given)})`);
      continue;
    }
    let raw = byKind.get(f.kind);
    if (raw === undefined) {
      raw = { kind: f.kind };
      byKind.set(f.kind, raw);
    }
    raw[f.parameter] = value;
  }
  let chosen: DetectorSpec | undefined;
  for (const [k, raw] of byKind) {
    const parsed = detectorSpecSchema.safeParse(raw);
    if (parsed.success) {
      if (k === kind) chosen = parsed.data as DetectorSpec;
      continue;
    }
    for (const issue of parsed.error.issues) {
      const parameter = String(issue.path[0] ?? '');
      const f = DETECTOR_FLAGS.find((d) => d.kind === k && d.parameter === parameter);
      problems.push(
        `${f?.flag ?? parameter}: ${issue.message} (got ${JSON.stringify(f === undefined ? raw[parameter] : flags[f.key])})`,
      );
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  for (const k of byKind.keys()) {
    if (k === kind) continue;
    const f = DETECTOR_FLAGS.find((d) => d.kind === k && flags[d.key] !== undefined);
    throw new UsageError(`${f?.flag}: applies to --detector ${k}, not ${kind}`);
  }
  return chosen as DetectorSpec;
}
