import { type DetectorSpec, evaluate, isLearning, type Verdict } from './detectors.ts';
import { CoreConfigError } from './errors.ts';
import { javaDoubleToString, pythonRepr } from './float-text.ts';
import type { Aggregate } from './types.ts';
import type { ClosedWindow, HeldReading } from './window-close.ts';

/** One (window, reading) decision: a reading flagged in one of the windows it belongs to. */
export interface WindowDecision {
  readonly sensorId: string;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly reading: HeldReading;
  /** The verdict against the whole window: `mean` is the window's average, `count` its size. */
  readonly verdict: Verdict;
}

/**
 * The values a closed window is averaged over. The seed's PyFlink job declares its parsed value
 * `Types.FLOAT()`, and PyFlink's FloatCoderImpl is "a coder for a float value (4-byte single
 * precision floating point number)" (flink-python/pyflink/fn_execution/coder_impl_slow.py), so
 * its window function sees every value rounded to 32 bits: `float32` reproduces that exactly.
 * The Java seed keeps doubles (`float64`), and so does the detector itself.
 */
export type ValuePrecision = 'float64' | 'float32';

export function windowValue(value: number, precision: ValuePrecision): number {
  return precision === 'float32' ? Math.fround(value) : value;
}

/**
 * The aggregate of a whole window, summed left to right in arrival order from 0, as Python's
 * `sum(values)` (≤ 3.11, the versions PyFlink supports) and the Java loop both do.
 */
export function windowAggregate(
  readings: readonly HeldReading[],
  precision: ValuePrecision = 'float64',
): Aggregate {
  let sum = 0;
  let sumSq = 0;
  for (const r of readings) {
    const v = windowValue(r.value, precision);
    sum += v;
    sumSq += v * v;
  }
  return { count: readings.length, sum, sumSq };
}

export function assertWindowDetector(spec: DetectorSpec, where: string): void {
  if (isLearning(spec)) {
    throw new CoreConfigError(
      `${where}: window-close evaluation needs a window detector (threshold or zscore), not ${spec.kind}; use --evaluation arrival for learning detectors`,
    );
  }
}

/**
 * Judges every reading of a closed window against the whole window (the seed's rule for the
 * threshold detector: |v − avg| > threshold), and returns the flagged ones in arrival order.
 */
export function judgeClosedWindow(
  window: ClosedWindow,
  spec: DetectorSpec,
  precision: ValuePrecision = 'float64',
): WindowDecision[] {
  assertWindowDetector(spec, window.sensorId);
  const aggregate = windowAggregate(window.readings, precision);
  const decisions: WindowDecision[] = [];
  for (const reading of window.readings) {
    const verdict = evaluate(spec, aggregate, windowValue(reading.value, precision));
    if (verdict.anomaly) {
      decisions.push({
        sensorId: window.sensorId,
        windowStartMs: window.startMs,
        windowEndMs: window.endMs,
        reading,
        verdict,
      });
    }
  }
  return decisions;
}

/** The seed jobs' two ways of printing a line. */
export type FlinkLineFormat = 'python' | 'java';

/**
 * `ANOMALY → sensor_1: value=180.0, avg=112.5`: the seed's line for one decision, the value as
 * the window function saw it and the average unrounded, printed as Python's f-string (PyFlink
 * seed) or Java's string concatenation (Java seed) prints a double.
 */
export function flinkLine(decision: WindowDecision, format: FlinkLineFormat): string {
  const precision: ValuePrecision = format === 'python' ? 'float32' : 'float64';
  const print = format === 'python' ? pythonRepr : javaDoubleToString;
  const value = windowValue(decision.reading.value, precision);
  return `ANOMALY → ${decision.sensorId}: value=${print(value)}, avg=${print(decision.verdict.mean)}`;
}

/** The alert id of one (window, reading) decision: the reading's id and the window's end. */
export function windowAlertId(decision: WindowDecision): string {
  const { topic, partition, offset } = decision.reading.source;
  return `${topic}-${partition}-${offset}@${decision.windowEndMs}`;
}
