import {
  EVALUATIONS,
  type Evaluation,
  type WindowCloseSettings,
} from '../../functions/batch/window-close/closing.ts';
import { type DetectorSpec, isLearning } from '../../functions/core/detectors.ts';
import { DEFAULT_ALLOWED_LATENESS_MS } from '../../functions/core/window-close.ts';
import { UsageError } from './parse-flags.ts';

/**
 * The evaluation flags of `npm start` and `npm run backtest` (semantics.md §3): when the window
 * detectors judge, on arrival or when each window closes (the seed job's own semantics), and
 * window-close evaluation's lateness and number format, named as `npm run parity` names them.
 */
export const EVALUATION_FLAG_NAMES = ['evaluation', 'allowed-lateness-ms', 'flink-format'] as const;

export const EVALUATION_FLAGS_HELP = `  --evaluation E          arrival | window-close                          (default arrival)
                            arrival       each reading judged as it arrives, once
                            window-close  each window judged when it closes, every
                                          reading against the whole window (the Flink job)
  --allowed-lateness-ms MS  window-close: how long past its end a window waits for
                            out-of-order readings                         (default ${DEFAULT_ALLOWED_LATENESS_MS})
  --flink-format F        window-close: python | java, the seed job's arithmetic and
                            number format (python: values as 4-byte floats) (default python)`;

/** The settings the flags choose; a UsageError names a bad value. */
export function evaluationFromFlags(
  flags: Readonly<Record<string, string | boolean | undefined>>,
  defaultDetector: DetectorSpec,
  hasRules: boolean,
): WindowCloseSettings {
  const evaluation = flags.evaluation ?? 'arrival';
  if (!(EVALUATIONS as readonly unknown[]).includes(evaluation))
    throw new UsageError(
      `--evaluation: one of ${EVALUATIONS.join(', ')} (got ${JSON.stringify(evaluation)})`,
    );
  const format = flags.flinkFormat ?? 'python';
  if (format !== 'python' && format !== 'java')
    throw new UsageError(`--flink-format: python or java (got ${JSON.stringify(format)})`);
  const latenessText = flags.allowedLatenessMs;
  const lateness = latenessText === undefined ? DEFAULT_ALLOWED_LATENESS_MS : Number(latenessText);
  if (typeof latenessText === 'boolean' || !Number.isInteger(lateness) || lateness < 0)
    throw new UsageError(
      `--allowed-lateness-ms: a whole number of ms, 0 or more (got ${JSON.stringify(latenessText)})`,
    );
  if (evaluation === 'arrival') {
    for (const [key, flag] of [
      ['allowedLatenessMs', '--allowed-lateness-ms'],
      ['flinkFormat', '--flink-format'],
    ] as const) {
      if (flags[key] !== undefined)
        throw new UsageError(`${flag}: applies to --evaluation window-close`);
    }
    return {};
  }
  if (isLearning(defaultDetector) && !hasRules)
    throw new UsageError(
      `--evaluation window-close: judges the window detectors (threshold, zscore); ${defaultDetector.kind} learns from each reading on arrival`,
    );
  return {
    evaluation: evaluation as Evaluation,
    allowedLatenessMs: lateness,
    flinkFormat: format,
  };
}
