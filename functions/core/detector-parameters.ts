/**
 * The one list of detector parameters. Everything that names, bounds, defaults or explains a
 * detector parameter derives from it: the rules-file schema and the function's environment
 * variables (functions/config.ts), the CLI flags of `npm start` and `npm run backtest`
 * (local/cli/detector-flags.ts), the CDK context keys and props (infra, via
 * `DETECTOR_SETTINGS` and `checkDetectorSetting`) and the docs tables (scripts/doc-tables.ts).
 *
 * Names: a parameter `p` of detector `k` is the context key, construct prop and CLI flag key
 * `k` + `P` (`adaptiveScoreThreshold`, flag `--adaptive-score-threshold`) and the variable
 * `K_P` in upper snake case (`ADAPTIVE_SCORE_THRESHOLD`); the threshold detector's one
 * parameter is just `threshold` (`THRESHOLD`, `--threshold`).
 */
import { ADAPTIVE_DEFAULTS, type AdaptiveDetector } from './adaptive.ts';
import { EWMA_DEFAULTS, type EwmaDetector } from './ewma.ts';
import { ROBUST_DEFAULTS, type RobustDetector } from './robust-state.ts';

export interface ParameterInfo {
  readonly default: number | string;
  /** `number` (finite), `integer`, or one of `values`. */
  readonly type: 'number' | 'integer' | 'enum';
  readonly min?: number;
  /** The bound itself is not allowed (`> min`). */
  readonly minExclusive?: boolean;
  readonly max?: number;
  readonly maxExclusive?: boolean;
  readonly values?: readonly string[];
  /** readings, σ, the sensor's units, a fraction, a score… */
  readonly unit: string;
  /** One sentence: what it does. */
  readonly meaning: string;
}

/** Every scalar parameter of a detector (guards such as `limits` are rules-file only). */
type Catalogue<D> = {
  readonly [K in Exclude<keyof D, 'kind' | 'limits' | 'direction'>]-?: ParameterInfo;
};

const positive = { type: 'number', min: 0, minExclusive: true } as const;
const nonNegative = { type: 'number', min: 0 } as const;
const readings = { type: 'integer', min: 0 } as const;

const THRESHOLD: Catalogue<{ threshold: number }> = {
  threshold: {
    ...nonNegative,
    default: 50,
    unit: 'units',
    meaning: 'Anomaly when |value − window mean| exceeds this.',
  },
};

const ZSCORE: Catalogue<{ sigma: number; minCount: number; minDeviation: number }> = {
  sigma: {
    ...positive,
    default: 2.5,
    unit: 'σ',
    meaning:
      'Anomaly when the deviation exceeds this many standard deviations of the window (3 could never fire on 10 readings).',
  },
  minCount: {
    type: 'integer',
    min: 1,
    default: 5,
    unit: 'readings',
    meaning: 'Readings in the window before it judges.',
  },
  minDeviation: {
    ...nonNegative,
    default: 0,
    unit: 'units',
    meaning: 'Never flag a deviation at or below this.',
  },
};

const EWMA: Catalogue<EwmaDetector> = {
  halfLifeReadings: {
    ...positive,
    default: EWMA_DEFAULTS.halfLifeReadings,
    unit: 'readings',
    meaning: "Readings after which an observation's weight has halved.",
  },
  sigma: {
    ...positive,
    default: EWMA_DEFAULTS.sigma,
    unit: 'σ',
    meaning: 'Band of this many learned standard deviations around the learned mean.',
  },
  warmupReadings: {
    type: 'integer',
    min: 1,
    default: EWMA_DEFAULTS.warmupReadings,
    unit: 'readings',
    meaning: 'Readings learned per sensor before it may flag anything.',
  },
  minRelativeDeviation: {
    ...nonNegative,
    default: EWMA_DEFAULTS.minRelativeDeviation,
    unit: 'fraction',
    meaning: 'The band is never narrower than this fraction of the learned mean.',
  },
  minDeviation: {
    ...nonNegative,
    default: EWMA_DEFAULTS.minDeviation,
    unit: 'units',
    meaning: 'The band is never narrower than this.',
  },
  levelShiftReadings: {
    type: 'integer',
    min: 1,
    default: EWMA_DEFAULTS.levelShiftReadings,
    unit: 'readings',
    meaning: 'This many consecutive readings on one side are a new level, not anomalies.',
  },
};

const ADAPTIVE: Catalogue<AdaptiveDetector> = {
  halfLifeReadings: {
    ...positive,
    default: ADAPTIVE_DEFAULTS.halfLifeReadings,
    unit: 'readings',
    meaning: 'Half-life of the learned level and spread.',
  },
  envelopeHalfLifeReadings: {
    ...positive,
    default: ADAPTIVE_DEFAULTS.envelopeHalfLifeReadings,
    unit: 'readings',
    meaning: 'Half-life of the recent envelope falling back to the level after a peak.',
  },
  extremeHalfLifeReadings: {
    ...positive,
    default: ADAPTIVE_DEFAULTS.extremeHalfLifeReadings,
    unit: 'readings',
    meaning: 'Half-life of the long-term range (the new-extreme rule).',
  },
  sigma: {
    ...positive,
    default: ADAPTIVE_DEFAULTS.sigma,
    unit: 'σ',
    meaning: 'A breakout of the recent envelope by this many σ is a raw anomaly of 0.5.',
  },
  extremeMargin: {
    ...positive,
    default: ADAPTIVE_DEFAULTS.extremeMargin,
    unit: 'fraction',
    meaning: 'A value beyond the long-term range by this fraction of its width scores 0.5.',
  },
  extremeMaturityReadings: {
    ...positive,
    default: ADAPTIVE_DEFAULTS.extremeMaturityReadings,
    unit: 'readings',
    meaning: 'Until this many readings are learned the margin is widened by √(this / readings).',
  },
  scoreThreshold: {
    type: 'number',
    min: 0,
    minExclusive: true,
    max: 1,
    maxExclusive: true,
    default: ADAPTIVE_DEFAULTS.scoreThreshold,
    unit: 'score',
    meaning: 'Anomaly when the score (in [0, 1]) exceeds this.',
  },
  warmupReadings: {
    ...readings,
    default: ADAPTIVE_DEFAULTS.warmupReadings,
    unit: 'readings',
    meaning: 'Readings learned per sensor before it may flag anything (score 0 until then).',
  },
  refractoryReadings: {
    ...readings,
    default: ADAPTIVE_DEFAULTS.refractoryReadings,
    unit: 'readings',
    meaning: 'Readings after an anomaly that are not flagged again (their score halved).',
  },
  minSpreadFraction: {
    ...nonNegative,
    default: ADAPTIVE_DEFAULTS.minSpreadFraction,
    unit: 'fraction',
    meaning: 'σ is never taken below this fraction of the long-term range.',
  },
  minDeviation: {
    ...nonNegative,
    default: ADAPTIVE_DEFAULTS.minDeviation,
    unit: 'units',
    meaning: 'σ is never taken below this.',
  },
};

const ROBUST: Catalogue<RobustDetector> = {
  halfLifeReadings: {
    ...positive,
    default: ROBUST_DEFAULTS.halfLifeReadings,
    unit: 'readings',
    meaning:
      'Half-life of the learned level and robust spread (spikes and dips are judged against them).',
  },
  baselineHalfLifeReadings: {
    ...positive,
    default: ROBUST_DEFAULTS.baselineHalfLifeReadings,
    unit: 'readings',
    meaning: 'Half-life of the slow baseline that drifts and level shifts are judged against.',
  },
  smoothingHalfLifeReadings: {
    ...positive,
    default: ROBUST_DEFAULTS.smoothingHalfLifeReadings,
    unit: 'readings',
    meaning: 'Half-life of the smoothed level (drift) and the short-term spread (variance).',
  },
  extremeHalfLifeReadings: {
    ...positive,
    default: ROBUST_DEFAULTS.extremeHalfLifeReadings,
    unit: 'readings',
    meaning: 'Half-life of the long-term range (the new-extreme test).',
  },
  sigma: {
    ...positive,
    default: ROBUST_DEFAULTS.sigma,
    unit: 'σ',
    meaning:
      'Spike or dip: this many robust σ from the level (more when the sensor’s own tail is heavier than Gaussian).',
  },
  driftSigma: {
    ...positive,
    default: ROBUST_DEFAULTS.driftSigma,
    unit: 'σ of the smoothed level',
    meaning: 'Drift or level shift: the smoothed level this far from the slow baseline.',
  },
  varianceRatio: {
    ...positive,
    default: ROBUST_DEFAULTS.varianceRatio,
    unit: 'ratio',
    meaning: 'Variance change: the short-term spread this many times the learned one.',
  },
  flatReadings: {
    ...positive,
    default: ROBUST_DEFAULTS.flatReadings,
    unit: 'readings',
    meaning:
      'Flat line: this many repeats of one value on a sensor that never repeats (more on one that often does).',
  },
  extremeMargin: {
    ...positive,
    default: ROBUST_DEFAULTS.extremeMargin,
    unit: 'fraction',
    meaning: 'New extreme: beyond the long-term range by this fraction of its width.',
  },
  scoreThreshold: {
    type: 'number',
    min: 0,
    minExclusive: true,
    max: 1,
    maxExclusive: true,
    default: ROBUST_DEFAULTS.scoreThreshold,
    unit: 'score',
    meaning:
      'A reading counts as anomalous when its score (in [0, 1)) exceeds this; 0.5 is every test at its limit.',
  },
  warmupReadings: {
    ...readings,
    default: ROBUST_DEFAULTS.warmupReadings,
    unit: 'readings',
    meaning: 'Readings learned per sensor before it may flag anything but a limit.',
  },
  refractoryReadings: {
    ...readings,
    default: ROBUST_DEFAULTS.refractoryReadings,
    unit: 'readings',
    meaning:
      'An episode ends after this many quiet readings; until then the sensor does not alert again.',
  },
  minDeviation: {
    ...nonNegative,
    default: ROBUST_DEFAULTS.minDeviation,
    unit: 'units',
    meaning: 'Never flag a spike, dip, drift or new extreme smaller than this.',
  },
  persistenceReadings: {
    type: 'integer',
    min: 1,
    max: 30,
    default: ROBUST_DEFAULTS.persistenceReadings,
    unit: 'readings',
    meaning:
      'Alert only when this many of the last `persistenceWindow` readings are anomalous (M of N).',
  },
  persistenceWindow: {
    type: 'integer',
    min: 1,
    max: 30,
    default: ROBUST_DEFAULTS.persistenceWindow,
    unit: 'readings',
    meaning: 'The N of M-of-N persistence.',
  },
};

/** The scalar parameters of each detector kind, in the order the docs list them. */
export const DETECTOR_PARAMETERS = {
  threshold: THRESHOLD,
  zscore: ZSCORE,
  ewma: EWMA,
  adaptive: ADAPTIVE,
  robust: ROBUST,
  limits: {},
} as const satisfies Record<string, Record<string, ParameterInfo>>;

export type CatalogueKind = keyof typeof DETECTOR_PARAMETERS;

/** The recommended detector's direction control: its one parameter that is not a number. */
export const DIRECTION_PARAMETER: ParameterInfo = {
  type: 'enum',
  values: ['both', 'up', 'down'],
  default: ROBUST_DEFAULTS.direction,
  unit: '',
  meaning: 'Which side alerts: `both`, `up` (spikes, rises) or `down` (dips, falls).',
};
