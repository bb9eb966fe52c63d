import type { DetectorSpec } from '../../functions/core/detectors.ts';
import { OpenWindows } from '../../functions/core/open-windows.ts';
import type { Reading } from '../../functions/core/types.ts';
import type { WindowCloseSpec } from '../../functions/core/window-close.ts';
import {
  type FlinkLineFormat,
  flinkLine,
  judgeClosedWindow,
  type ValuePrecision,
  type WindowDecision,
} from '../../functions/core/window-close-judge.ts';

/** The seed's rule: flag a reading more than 50 units from its window's average. */
export const SEED_DETECTOR: DetectorSpec = { kind: 'threshold', threshold: 50 };

export interface SeedLinesResult {
  readonly lines: string[];
  readonly decisions: WindowDecision[];
  readonly readings: number;
  /** Readings that arrived after every window they belong to had closed. */
  readonly lateReadings: number;
  /** (reading, window) pairs dropped because the window had closed. */
  readonly lateWindowDrops: number;
  readonly windowsClosed: number;
}

/**
 * What the seed job prints for a stream of readings, in the order it would print it: windows in
 * order of end (then sensor id, where Flink's order among keys is not defined), each window's
 * flagged readings in arrival order. At the end of the input every window still open fires, as
 * Flink's final watermark does at the end of a bounded input.
 */
export function seedLines(
  readings: Iterable<Reading>,
  spec: WindowCloseSpec,
  options: { readonly format: FlinkLineFormat; readonly detector?: DetectorSpec },
): SeedLinesResult {
  const detector = options.detector ?? SEED_DETECTOR;
  const precision: ValuePrecision = options.format === 'python' ? 'float32' : 'float64';
  // The product's open windows (functions/core/open-windows.ts), as the batch path keeps a
  // partition's: the same assignment to windows, lateness and closing order, without the
  // cooldown and outbox budget that a recording's seed lines do not have.
  const open = new OpenWindows(spec);
  const decisions: WindowDecision[] = [];
  let count = 0;
  let lateReadings = 0;
  let lateWindowDrops = 0;
  let windowsClosed = 0;
  // Every due window, in order of (end, sensor id), each judged whole.
  const closeDue = () => {
    for (let due = open.peekDue(); due !== undefined; due = open.peekDue()) {
      decisions.push(...judgeClosedWindow(due.window, detector, precision));
      open.finish(due.window);
      windowsClosed += 1;
    }
  };
  for (const reading of readings) {
    count += 1;
    const result = open.add(reading.sensorId, {
      value: reading.value,
      eventTimeMs: reading.eventTimeMs,
      source: reading.source,
    });
    if (result.late) lateReadings += 1;
    lateWindowDrops += result.lateWindows;
    closeDue();
  }
  // The end of the input: Flink's final watermark fires every window still open.
  open.advanceTo(Number.POSITIVE_INFINITY);
  closeDue();
  return {
    lines: decisions.map((d) => flinkLine(d, options.format)),
    decisions,
    readings: count,
    lateReadings,
    lateWindowDrops,
    windowsClosed,
  };
}
