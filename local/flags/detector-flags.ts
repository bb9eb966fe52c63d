import { detectorSpecSchema } from '../../functions/config.ts';
import {
  ADAPTIVE_DEFAULTS,
  DETECTOR_KINDS,
  type DetectorKind,
  type DetectorSpec,
  EWMA_DEFAULTS,
  ZSCORE_DEFAULTS,
} from '../../functions/core/detectors.ts';
import { UsageError } from './parse-flags.ts';

/**
 * The detector flags of `npm start`, the same as `npm run backtest`'s: one per parameter of
 * each detector, named `--<kind>-<parameter in kebab case>` (`--threshold` for the threshold
 * detector's one), validated by the rules file's schema (functions/config.ts), so a setting
 * tried on a recording runs live unchanged. The exports mirror the backtest's flag module
 * (DETECTOR_FLAGS, DETECTOR_FLAG_NAMES, DETECTOR_FLAGS_HELP, detectorFromFlags), so either can
 * serve both CLIs.
 */
const PARAMETERS = {
  threshold: { threshold: 50 },
  zscore: ZSCORE_DEFAULTS,
  ewma: EWMA_DEFAULTS,
  adaptive: ADAPTIVE_DEFAULTS,
} as const satisfies Record<DetectorKind, Record<string, number>>;

const kebab = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export interface DetectorFlag {
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

/** What each parameter flag means, keyed like DETECTOR_FLAGS. */
export const DETECTOR_FLAG_MEANINGS: Readonly<Record<string, string>> = {
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
    const meaning = `${f.kind}: ${DETECTOR_FLAG_MEANINGS[f.key] ?? f.parameter}`;
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

/**
 * The window check of the deployed config, in the CLI's units and flag names: `--window-seconds
 * 12` with a 5 s slide is reported in seconds, not as the function's SLIDE_SECONDS/WINDOW_SECONDS.
 */
export function checkWindowFlags(windowSeconds: number, slideSeconds: number): void {
  if (windowSeconds % slideSeconds !== 0) {
    throw new UsageError(
      `--window-seconds: must be a whole multiple of --slide-seconds (${slideSeconds}) (got ${windowSeconds})`,
    );
  }
}
