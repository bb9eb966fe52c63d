import { z } from 'zod';
import { DEFAULT_DETECTION } from '../../functions/config.ts';
import {
  DETECTOR_KINDS,
  type DetectorSpec,
  EWMA_DEFAULTS,
  ZSCORE_DEFAULTS,
} from '../../functions/core/detectors.ts';
import { flagOf, type OptionDoc, UsageError } from './parse-flags.ts';

/**
 * The detector flags of `npm start` and `npm run backtest`: one set, so a setting tried on a
 * recording runs live unchanged. They mirror the deployed function's settings
 * (docs/configuration.md) with the same defaults.
 */

const positiveInt = z.coerce.number().int().positive();
const positive = z.coerce.number().finite().positive();
const nonNegative = z.coerce.number().finite().nonnegative();

/** Schema fields, all optional: an unset parameter takes its detector's default. */
export const DETECTOR_FLAG_SHAPE = {
  detector: z.enum(DETECTOR_KINDS).optional(),
  threshold: nonNegative.optional(),
  zscoreSigma: positive.optional(),
  zscoreMinCount: positiveInt.optional(),
  zscoreMinDeviation: nonNegative.optional(),
  ewmaHalfLifeReadings: positive.optional(),
  ewmaSigma: positive.optional(),
  ewmaWarmupReadings: positiveInt.optional(),
  ewmaMinRelativeDeviation: nonNegative.optional(),
  ewmaMinDeviation: nonNegative.optional(),
  ewmaLevelShiftReadings: positiveInt.optional(),
  rules: z.string().min(1).optional(),
} as const;

export type DetectorFlags = {
  readonly [K in keyof typeof DETECTOR_FLAG_SHAPE]?: z.infer<(typeof DETECTOR_FLAG_SHAPE)[K]>;
};

export const DETECTOR_FLAGS = Object.keys(DETECTOR_FLAG_SHAPE).map((k) => flagOf(k).slice(2));

export const DETECTOR_FLAG_DOCS: readonly OptionDoc[] = [
  {
    flag: 'detector',
    arg: 'D',
    meaning: `${DETECTOR_KINDS.join(' | ')}`,
    defaultText: DEFAULT_DETECTION.defaultDetector.kind,
  },
  {
    flag: 'threshold',
    arg: 'X',
    meaning: 'threshold: |value - window avg| > X',
    defaultText: String(DEFAULT_DETECTION.defaultDetector.threshold),
  },
  {
    flag: 'zscore-sigma',
    arg: 'K',
    meaning: 'zscore: k of k·σ',
    defaultText: String(ZSCORE_DEFAULTS.sigma),
  },
  {
    flag: 'zscore-min-count',
    arg: 'N',
    meaning: 'zscore: readings in the window before flagging',
    defaultText: String(ZSCORE_DEFAULTS.minCount),
  },
  {
    flag: 'zscore-min-deviation',
    arg: 'X',
    meaning: 'zscore: never flag |value - avg| <= X',
    defaultText: String(ZSCORE_DEFAULTS.minDeviation),
  },
  {
    flag: 'ewma-half-life-readings',
    arg: 'N',
    meaning: "ewma: readings until a reading's weight halves",
    defaultText: String(EWMA_DEFAULTS.halfLifeReadings),
  },
  {
    flag: 'ewma-sigma',
    arg: 'K',
    meaning: 'ewma: k of the k·σ band',
    defaultText: String(EWMA_DEFAULTS.sigma),
  },
  {
    flag: 'ewma-warmup-readings',
    arg: 'N',
    meaning: 'ewma: readings learned before flagging',
    defaultText: String(EWMA_DEFAULTS.warmupReadings),
  },
  {
    flag: 'ewma-min-relative-deviation',
    arg: 'F',
    meaning: 'ewma: band >= F·|mean|',
    defaultText: String(EWMA_DEFAULTS.minRelativeDeviation),
  },
  {
    flag: 'ewma-min-deviation',
    arg: 'X',
    meaning: 'ewma: band >= X',
    defaultText: String(EWMA_DEFAULTS.minDeviation),
  },
  {
    flag: 'ewma-level-shift-readings',
    arg: 'N',
    meaning: 'ewma: out-of-band run that is a new level',
    defaultText: String(EWMA_DEFAULTS.levelShiftReadings),
  },
  {
    flag: 'rules',
    arg: 'FILE',
    meaning:
      'per-sensor rules file (docs/detectors.md), as deployed; its "default" replaces --detector',
    defaultText: 'none',
  },
];

const PARAMETERS_OF = {
  threshold: ['threshold'],
  zscore: ['zscoreSigma', 'zscoreMinCount', 'zscoreMinDeviation'],
  ewma: [
    'ewmaHalfLifeReadings',
    'ewmaSigma',
    'ewmaWarmupReadings',
    'ewmaMinRelativeDeviation',
    'ewmaMinDeviation',
    'ewmaLevelShiftReadings',
  ],
} as const satisfies Record<DetectorSpec['kind'], readonly (keyof DetectorFlags)[]>;

/** The default detector; a parameter of another detector than the chosen one is a mistake. */
export function detectorFromFlags(o: DetectorFlags): DetectorSpec {
  const kind = o.detector ?? DEFAULT_DETECTION.defaultDetector.kind;
  for (const [other, keys] of Object.entries(PARAMETERS_OF)) {
    if (other === kind) continue;
    const given = keys.find((k) => o[k] !== undefined);
    if (given !== undefined) {
      throw new UsageError(`${flagOf(given)}: applies to --detector ${other}, not ${kind}`);
    }
  }
  switch (kind) {
    case 'threshold':
      return { kind, threshold: o.threshold ?? DEFAULT_DETECTION.defaultDetector.threshold };
    case 'zscore':
      return {
        kind,
        sigma: o.zscoreSigma ?? ZSCORE_DEFAULTS.sigma,
        minCount: o.zscoreMinCount ?? ZSCORE_DEFAULTS.minCount,
        minDeviation: o.zscoreMinDeviation ?? ZSCORE_DEFAULTS.minDeviation,
      };
    case 'ewma':
      return {
        kind,
        halfLifeReadings: o.ewmaHalfLifeReadings ?? EWMA_DEFAULTS.halfLifeReadings,
        sigma: o.ewmaSigma ?? EWMA_DEFAULTS.sigma,
        warmupReadings: o.ewmaWarmupReadings ?? EWMA_DEFAULTS.warmupReadings,
        minRelativeDeviation: o.ewmaMinRelativeDeviation ?? EWMA_DEFAULTS.minRelativeDeviation,
        minDeviation: o.ewmaMinDeviation ?? EWMA_DEFAULTS.minDeviation,
        levelShiftReadings: o.ewmaLevelShiftReadings ?? EWMA_DEFAULTS.levelShiftReadings,
      };
  }
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
