import { detectorSpecSchema, ENV_DETECTOR_KINDS } from '../../functions/config.ts';
import type { CatalogueKind } from '../../functions/core/detector-parameters.ts';
import { DETECTOR_SETTINGS } from '../../functions/core/detector-settings.ts';
import type { DetectorKind, DetectorSpec } from '../../functions/core/detectors.ts';
import { UsageError } from './parse-flags.ts';

/**
 * The detector flags of `npm start`, the same as `npm run backtest`'s: one per parameter of
 * each detector, named `--<kind>-<parameter in kebab case>` (`--threshold` for the threshold
 * detector's one), from the one list of detector parameters (functions/core/
 * detector-parameters.ts) and validated by the rules file's schema (functions/config.ts), so a
 * setting tried on a recording runs live unchanged. The exports mirror the backtest's flag
 * module (DETECTOR_FLAGS, DETECTOR_FLAG_NAMES, DETECTOR_FLAGS_HELP, detectorFromFlags), so
 * either can serve both CLIs.
 */
export interface DetectorFlag {
  readonly kind: CatalogueKind;
  readonly parameter: string;
  /** camelCase, as parseFlags returns it. */
  readonly key: string;
  readonly flag: string;
  readonly defaultValue: number | string;
  readonly type: 'number' | 'integer' | 'enum';
}

export const DETECTOR_FLAGS: readonly DetectorFlag[] = DETECTOR_SETTINGS.map((s) => ({
  kind: s.kind,
  parameter: s.parameter,
  key: s.key,
  flag: s.flag,
  defaultValue: s.default,
  type: s.type,
}));

/** For parseFlags: `detector` and every parameter flag, in kebab case without dashes. */
export const DETECTOR_FLAG_NAMES: readonly string[] = [
  'detector',
  ...DETECTOR_FLAGS.map((f) => f.flag.slice(2)),
];

/** What each parameter flag means, keyed like DETECTOR_FLAGS. */
export const DETECTOR_FLAG_MEANINGS: Readonly<Record<string, string>> = Object.fromEntries(
  DETECTOR_SETTINGS.map((s) => [s.key, s.meaning]),
);

/** The help lines for the detector flags. */
export const DETECTOR_FLAGS_HELP = [
  `  --detector D            ${ENV_DETECTOR_KINDS.join(' | ')}       (default threshold)`,
  ...DETECTOR_FLAGS.map((f) => {
    const left = `  ${f.flag} ${f.type === 'enum' ? 'D' : 'X'}`;
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
  if (kindText !== undefined && !(ENV_DETECTOR_KINDS as readonly unknown[]).includes(kindText)) {
    throw new UsageError(
      `--detector: one of ${ENV_DETECTOR_KINDS.join(', ')} (got ${JSON.stringify(kindText)})`,
    );
  }
  const kind = (kindText ?? 'threshold') as DetectorKind;
  const byKind = new Map<DetectorKind, Record<string, unknown>>([[kind, { kind }]]);
  const problems: string[] = [];
  for (const f of DETECTOR_FLAGS) {
    const given = flags[f.key];
    if (given === undefined) continue;
    const value =
      f.type === 'enum'
        ? given
        : typeof given === 'string' && given.trim() !== ''
          ? Number(given)
          : Number.NaN;
    if (typeof value === 'number' && !Number.isFinite(value)) {
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
