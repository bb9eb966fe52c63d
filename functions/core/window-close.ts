import { CoreConfigError } from './errors.ts';
import type { RecordSource } from './types.ts';
import type { WindowSpec } from './windows.ts';

/**
 * Window-close evaluation: the seed job's own semantics (docs/semantics.md §3b). Each sensor's
 * sliding windows are evaluated once, when they close, every reading in a window against the
 * average of the whole window, each window separately, as Flink's `WindowFunction` does when a
 * window fires.
 *
 * When a window closes: Flink's bounded-out-of-orderness watermark, per partition. The
 * watermark is the latest event time seen in the stream (a partition, or a recording); a window
 * [start, end) closes once `watermark ≥ end + allowedLateness`, and a reading that arrives for a
 * window already closed is late for that window (Flink drops it there; we count it). The seed
 * used processing time, which is the special case of in-order timestamps and no lateness.
 *
 * This module holds the settings and the shapes of held readings and closed windows. The open
 * windows of a partition or a recording, and the order they close in, are `OpenWindows`
 * (open-windows.ts): one mechanism for the batch path, the scheduled flush and a recording's
 * seed lines (`npm run parity`). Judging a closed window is `judgeClosedWindow`
 * (window-close-judge.ts), so the rule stays the detector's.
 */

export interface WindowCloseSpec extends WindowSpec {
  /** How far behind the stream's latest event time a reading may be and still count. */
  readonly allowedLatenessMs: number;
}

/** 2 s: producers' clock skew and batching within a partition, at 2 s of added alert latency. */
export const DEFAULT_ALLOWED_LATENESS_MS = 2000;

export function validateWindowCloseSpec(spec: WindowCloseSpec): WindowCloseSpec {
  if (!(Number.isInteger(spec.allowedLatenessMs) && spec.allowedLatenessMs >= 0)) {
    throw new CoreConfigError(
      `allowed lateness must be a whole number of ms >= 0, got ${spec.allowedLatenessMs}`,
    );
  }
  return spec;
}

/** A reading held until the windows it belongs to close. */
export interface HeldReading {
  readonly value: number;
  readonly eventTimeMs: number;
  readonly source: RecordSource;
  /** The reading's position in a record of several (its alert id's `.<index>`); absent: 0. */
  readonly index?: number;
  /** Arrival order in the stream: a window lists its readings in this order, as Flink's does. */
  readonly seq: number;
}

export interface ClosedWindow {
  readonly sensorId: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Every reading of the window, in arrival order (never empty). */
  readonly readings: readonly HeldReading[];
}
