import type { ClosedWindow, HeldReading, WindowCloseSpec } from './window-close.ts';
import { validateWindowCloseSpec } from './window-close.ts';
import { bucketStartMs } from './windows.ts';

/**
 * The open windows of one Kafka partition under window-close evaluation, as the batch path
 * keeps them (docs/state.md, "Open windows"): the readings of every sensor's buckets whose
 * windows have not all closed, the partition's watermark, and where the closing of due
 * windows stands.
 *
 * Due windows close one at a time, in order of (end, sensor id), and closing may stop in the
 * middle of a window's decisions: a commit's outbox has a byte budget, and one reading can
 * close the windows of a whole fleet. A recording (local/parity/seed-lines.ts) closes them
 * all between readings, with the same order and the same windows. While due windows remain, no reading is
 * taken (`add` refuses), so a due window never gains a reading that arrived after it closed.
 *
 * What is stored is the held readings, the watermark and a cursor; the set of windows still
 * to close is derived from them (`restore`), so the state holds no per-window list.
 */

/** Where the closing of due windows stands: everything before (end, sensor, seq) is decided. */
export interface ClosingCursor {
  /** The watermark before the advance that made these windows due. */
  readonly floorMs: number;
  readonly endMs: number;
  readonly sensorId: string;
  /** Decisions of the window (end, sensor) for readings of seq below this one are made. */
  readonly seq: number;
}

/** The stored form: plain data. */
export interface OpenWindowsState {
  /** null before the first reading. */
  readonly watermarkMs: number | null;
  /** The next reading's arrival number. */
  readonly seq: number;
  /** Set while due windows remain to be closed. */
  readonly closing: ClosingCursor | null;
  /** Held readings by sensor, then bucket start, each bucket in arrival order. */
  readonly sensors: ReadonlyMap<string, ReadonlyMap<number, readonly HeldReading[]>>;
}

export const EMPTY_OPEN_WINDOWS: OpenWindowsState = {
  watermarkMs: null,
  seq: 0,
  closing: null,
  sensors: new Map(),
};

export interface AddResult {
  /** Windows of the reading that had already closed: the reading is left out of them. */
  readonly lateWindows: number;
  /** Every window of the reading had closed: it is held nowhere. */
  readonly late: boolean;
}

export class OpenWindows {
  private watermark: number;
  private nextSeq: number;
  /** The watermark before the advance that made the current due windows due. */
  private floor: number;
  private readonly buckets: Map<string, Map<number, HeldReading[]>>;
  /** window end → sensors whose window ending there has not closed. */
  private readonly pending = new Map<number, Set<string>>();
  /** The window being closed, and the first seq of it not yet decided. */
  private resume: { endMs: number; sensorId: string; seq: number } | null = null;
  /** The due windows of one end in id order, and how far closing has gone through them. */
  private queue: { endMs: number; ids: string[]; at: number } | null = null;
  private readonly k: number;

  constructor(
    private readonly spec: WindowCloseSpec,
    state: OpenWindowsState = EMPTY_OPEN_WINDOWS,
  ) {
    validateWindowCloseSpec(spec);
    this.k = spec.windowMs / spec.slideMs;
    this.watermark = state.watermarkMs ?? Number.NEGATIVE_INFINITY;
    this.nextSeq = state.seq;
    this.floor = state.closing?.floorMs ?? this.watermark;
    this.buckets = new Map();
    const c = state.closing;
    if (c !== null) this.resume = { endMs: c.endMs, sensorId: c.sensorId, seq: c.seq };
    // The windows still to close: every window of a held bucket that is not yet due, and the
    // due ones the cursor has not passed (those that became due with the last advance). A
    // bucket whose last window (the one starting at it) has closed is dead: closing a window
    // drops the sensor's buckets it was the last window of, and the stored parts still hold
    // them.
    const { windowMs, slideMs, allowedLatenessMs } = spec;
    const isOpen = (endMs: number, sensorId: string) => {
      const dueAt = endMs + allowedLatenessMs;
      return (
        dueAt > this.watermark ||
        (c !== null &&
          dueAt > c.floorMs &&
          (endMs > c.endMs || (endMs === c.endMs && compareIds(sensorId, c.sensorId) >= 0)))
      );
    };
    for (const [sensorId, byStart] of state.sensors) {
      const live = new Map<number, HeldReading[]>();
      for (const [start, held] of byStart) {
        if (held.length === 0 || !isOpen(start + windowMs, sensorId)) continue;
        live.set(start, [...held]);
        for (let endMs = start + slideMs; endMs <= start + windowMs; endMs += slideMs)
          if (isOpen(endMs, sensorId)) this.pend(endMs, sensorId);
      }
      if (live.size > 0) this.buckets.set(sensorId, live);
    }
  }

  get watermarkMs(): number {
    return this.watermark;
  }

  get seq(): number {
    return this.nextSeq;
  }

  /** Readings held in open windows. */
  get heldReadings(): number {
    let n = 0;
    for (const s of this.buckets.values()) for (const b of s.values()) n += b.length;
    return n;
  }

  /** Whether windows are due (the watermark passed their end plus the lateness). */
  get hasDue(): boolean {
    return this.firstDueEnd() !== undefined;
  }

  /**
   * Takes one reading in stream order and moves the watermark to its event time. Refused while
   * due windows remain: close them first (a due window is closed, whatever is still to tell).
   */
  add(sensorId: string, reading: Omit<HeldReading, 'seq'>): AddResult {
    if (this.hasDue) throw new Error('close the due windows before adding a reading');
    const { slideMs, windowMs, allowedLatenessMs } = this.spec;
    const last = bucketStartMs(reading.eventTimeMs, this.spec);
    let lateWindows = 0;
    for (let i = 0; i < this.k; i += 1) {
      const endMs = last - i * slideMs + windowMs;
      if (endMs + allowedLatenessMs <= this.watermark) lateWindows += 1;
      else this.pend(endMs, sensorId);
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
      bucket.push({ ...reading, seq: this.nextSeq });
      this.nextSeq += 1;
    }
    this.advanceTo(reading.eventTimeMs);
    return { lateWindows, late };
  }

  /** Moves the watermark forward (a reading, the scheduled flush, the end of a recording). */
  advanceTo(watermarkMs: number): void {
    if (!(watermarkMs > this.watermark)) return;
    if (!this.hasDue) this.floor = this.watermark;
    this.watermark = watermarkMs;
  }

  /**
   * The next window to close, in order of (end, sensor id), with the first seq of it not yet
   * decided (decisions of earlier readings of it were committed before), or undefined.
   */
  peekDue(): { window: ClosedWindow; fromSeq: number } | undefined {
    const endMs = this.firstDueEnd();
    if (endMs === undefined) return undefined;
    const sensors = this.pending.get(endMs) as Set<string>;
    // Sorted once per end: a fleet's windows ending together close in id order.
    if (this.queue?.endMs !== endMs)
      this.queue = { endMs, ids: [...sensors].sort(compareIds), at: 0 };
    const q = this.queue;
    while (!sensors.has(q.ids[q.at] as string)) q.at += 1;
    const id = q.ids[q.at] as string;
    const r = this.resume;
    const fromSeq = r !== null && r.endMs === endMs && r.sensorId === id ? r.seq : 0;
    return { window: this.window(id, endMs), fromSeq };
  }

  /** Decisions of the window being closed are made up to (not including) `seq`. */
  pauseAt(window: ClosedWindow, seq: number): void {
    this.resume = { endMs: window.endMs, sensorId: window.sensorId, seq };
  }

  /** The window peeked is closed: it leaves the pending set, and buckets no window needs go. */
  finish(window: ClosedWindow): void {
    const sensors = this.pending.get(window.endMs);
    sensors?.delete(window.sensorId);
    if (sensors?.size === 0) this.pending.delete(window.endMs);
    this.resume = null;
    // Windows close in order of end: no window of this sensor still to close holds a bucket
    // that starts at or before this window's start.
    const byStart = this.buckets.get(window.sensorId);
    if (byStart === undefined) return;
    for (const start of byStart.keys()) {
      if (start <= window.startMs) byStart.delete(start);
    }
    if (byStart.size === 0) this.buckets.delete(window.sensorId);
  }

  /** The state to store. */
  state(): OpenWindowsState {
    const next = this.peekDue();
    const closing: ClosingCursor | null =
      next === undefined
        ? null
        : {
            floorMs: this.floor,
            endMs: next.window.endMs,
            sensorId: next.window.sensorId,
            seq: next.fromSeq,
          };
    return {
      watermarkMs: Number.isFinite(this.watermark) ? this.watermark : null,
      seq: this.nextSeq,
      closing: Number.isFinite(this.watermark) ? closing : null,
      sensors: this.buckets,
    };
  }

  /** The held readings of one bucket start, by sensor (what a page of that bucket holds). */
  bucketReadings(startMs: number): Map<string, readonly HeldReading[]> {
    const out = new Map<string, readonly HeldReading[]>();
    for (const [sensorId, byStart] of this.buckets) {
      const held = byStart.get(startMs);
      if (held !== undefined) out.set(sensorId, held);
    }
    return out;
  }

  /** Bucket starts with held readings. */
  bucketStarts(): Set<number> {
    const starts = new Set<number>();
    for (const byStart of this.buckets.values()) for (const s of byStart.keys()) starts.add(s);
    return starts;
  }

  /** Sensors with windows still to close (their cooldowns are needed to close them). */
  sensorsHeld(): string[] {
    return [...this.buckets.keys()];
  }

  private pend(endMs: number, sensorId: string): void {
    let sensors = this.pending.get(endMs);
    if (sensors === undefined) {
      sensors = new Set();
      this.pending.set(endMs, sensors);
    }
    sensors.add(sensorId);
  }

  private firstDueEnd(): number | undefined {
    let first: number | undefined;
    for (const endMs of this.pending.keys()) {
      if (endMs + this.spec.allowedLatenessMs > this.watermark) continue;
      if (first === undefined || endMs < first) first = endMs;
    }
    return first;
  }

  private window(sensorId: string, endMs: number): ClosedWindow {
    const startMs = endMs - this.spec.windowMs;
    const byStart = this.buckets.get(sensorId);
    const readings: HeldReading[] = [];
    for (let b = startMs; b < endMs; b += this.spec.slideMs) {
      const held = byStart?.get(b);
      if (held !== undefined) readings.push(...held);
    }
    readings.sort((a, b) => a.seq - b.seq);
    return { sensorId, startMs, endMs, readings };
  }
}

/** Code-point order, the same in every runtime (localeCompare is not). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
