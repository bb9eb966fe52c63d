import { CoreConfigError } from './errors.ts';
import type { RecordSource } from './types.ts';
import { bucketStartMs, type WindowSpec } from './windows.ts';

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
 * This module only assigns readings to windows and says which windows closed; judging a closed
 * window is `judgeClosedWindow` (window-close-judge.ts), so the rule stays the detector's.
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

export interface AcceptResult {
  /** How many of the reading's windows had already closed when it arrived (late for them). */
  readonly lateWindows: number;
  /** True when every window of the reading had closed: it is held nowhere. */
  readonly late: boolean;
}

/**
 * The open windows of one stream (one Kafka partition, or one recording), mutable: a batch
 * owns it for the length of the batch, and the state layer stores it between batches
 * (`toSnapshot` / `fromSnapshot`).
 */
export class WindowCloser {
  private watermark = Number.NEGATIVE_INFINITY;
  private seq = 0;
  /** sensor → bucket start → readings in arrival order. */
  private readonly buckets = new Map<string, Map<number, HeldReading[]>>();
  /** window end → sensors with a window ending there that has not fired. */
  private readonly pending = new Map<number, Set<string>>();
  private readonly k: number;

  constructor(private readonly spec: WindowCloseSpec) {
    validateWindowCloseSpec(spec);
    this.k = spec.windowMs / spec.slideMs;
  }

  get watermarkMs(): number {
    return this.watermark;
  }

  /** Readings held in open windows: the state's size in readings. */
  get heldReadings(): number {
    let n = 0;
    for (const sensor of this.buckets.values()) for (const b of sensor.values()) n += b.length;
    return n;
  }

  /**
   * Takes one reading in stream order and returns the windows it closed (the reading moves the
   * watermark), in order of end, then sensor id. The reading itself is in none of them: a window
   * closes only once the watermark is `allowedLateness` past its end.
   */
  accept(
    sensorId: string,
    reading: Omit<HeldReading, 'seq'>,
  ): AcceptResult & {
    readonly closed: ClosedWindow[];
  } {
    const { slideMs, windowMs, allowedLatenessMs } = this.spec;
    const last = bucketStartMs(reading.eventTimeMs, this.spec);
    let lateWindows = 0;
    for (let i = 0; i < this.k; i += 1) {
      const endMs = last - i * slideMs + windowMs;
      if (endMs + allowedLatenessMs <= this.watermark) {
        lateWindows += 1;
        continue;
      }
      let sensors = this.pending.get(endMs);
      if (sensors === undefined) {
        sensors = new Set();
        this.pending.set(endMs, sensors);
      }
      sensors.add(sensorId);
    }
    const late = lateWindows === this.k;
    if (!late) {
      let sensor = this.buckets.get(sensorId);
      if (sensor === undefined) {
        sensor = new Map();
        this.buckets.set(sensorId, sensor);
      }
      let bucket = sensor.get(last);
      if (bucket === undefined) {
        bucket = [];
        sensor.set(last, bucket);
      }
      bucket.push({ ...reading, seq: this.seq });
      this.seq += 1;
    }
    const closed = this.advanceTo(reading.eventTimeMs);
    return { lateWindows, late, closed };
  }

  /**
   * Moves the watermark to at least `watermarkMs` and returns the windows that closed: the
   * scheduled flush of a quiet partition, and the end of a recording (`Infinity`: every window,
   * as Flink's final watermark at the end of a bounded input).
   */
  advanceTo(watermarkMs: number): ClosedWindow[] {
    if (!(watermarkMs > this.watermark)) return [];
    this.watermark = watermarkMs;
    const due = [...this.pending.keys()]
      .filter((endMs) => endMs + this.spec.allowedLatenessMs <= watermarkMs)
      .sort((a, b) => a - b);
    const closed: ClosedWindow[] = [];
    for (const endMs of due) {
      const sensors = [...(this.pending.get(endMs) ?? [])].sort(compareIds);
      this.pending.delete(endMs);
      for (const sensorId of sensors) closed.push(this.window(sensorId, endMs));
    }
    this.dropClosedBuckets();
    return closed;
  }

  private window(sensorId: string, endMs: number): ClosedWindow {
    const startMs = endMs - this.spec.windowMs;
    const sensor = this.buckets.get(sensorId);
    const readings: HeldReading[] = [];
    for (let b = startMs; b < endMs; b += this.spec.slideMs) {
      const held = sensor?.get(b);
      if (held !== undefined) readings.push(...held);
    }
    readings.sort((a, b) => a.seq - b.seq);
    return { sensorId, startMs, endMs, readings };
  }

  /** A bucket is needed until the last window holding it (the one starting there) has closed. */
  private dropClosedBuckets(): void {
    const { windowMs, allowedLatenessMs } = this.spec;
    for (const [sensorId, sensor] of this.buckets) {
      for (const start of sensor.keys()) {
        if (start + windowMs + allowedLatenessMs <= this.watermark) sensor.delete(start);
      }
      if (sensor.size === 0) this.buckets.delete(sensorId);
    }
  }

  toSnapshot(): WindowCloserSnapshot {
    const sensors: [string, [number, HeldReading[]][]][] = [];
    for (const [sensorId, sensor] of this.buckets) {
      const buckets: [number, HeldReading[]][] = [];
      for (const [start, held] of sensor) buckets.push([start, held.map((r) => ({ ...r }))]);
      sensors.push([sensorId, buckets]);
    }
    const pending: [number, string[]][] = [];
    for (const [endMs, ids] of this.pending) pending.push([endMs, [...ids]]);
    const watermarkMs = Number.isFinite(this.watermark) ? this.watermark : null;
    return { watermarkMs, seq: this.seq, sensors, pending };
  }

  static fromSnapshot(spec: WindowCloseSpec, snapshot: WindowCloserSnapshot): WindowCloser {
    const closer = new WindowCloser(spec);
    closer.watermark = snapshot.watermarkMs ?? Number.NEGATIVE_INFINITY;
    closer.seq = snapshot.seq;
    for (const [sensorId, buckets] of snapshot.sensors) {
      closer.buckets.set(sensorId, new Map(buckets.map(([start, held]) => [start, [...held]])));
    }
    for (const [endMs, ids] of snapshot.pending) closer.pending.set(endMs, new Set(ids));
    return closer;
  }
}

/** Plain data: what a batch commits so that the next batch (or a retry) continues exactly. */
export interface WindowCloserSnapshot {
  /** null before the first reading (JSON has no -Infinity). */
  readonly watermarkMs: number | null;
  readonly seq: number;
  readonly sensors: readonly (readonly [
    string,
    readonly (readonly [number, readonly HeldReading[]])[],
  ])[];
  readonly pending: readonly (readonly [number, readonly string[]])[];
}

/** Code-point order, the same in every runtime (localeCompare is not). */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
