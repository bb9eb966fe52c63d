/**
 * What the live view remembers, bounded: the last readings of each sensor (value, baseline,
 * limit, anomaly mark), the last console events, the latest status. A browser that (re)loads
 * the page gets all of it at once; later changes are sent as they come.
 */

/** Anomaly mark of a point: none, notified (sent to SNS), held back by the cooldown. */
export const MARK = { none: 0, notified: 1, heldBack: 2 } as const;
export type Mark = (typeof MARK)[keyof typeof MARK];

/** One judged reading: [eventTimeMs, value, baseline, limit, mark]. Arrays keep the JSON small. */
export type Point = readonly [number, number, number, number, Mark];

/** One console line: its kind and text, as `npm start` printed it. */
export interface FeedLine {
  readonly kind: 'anomaly' | 'notification' | 'rejected' | 'failed' | 'status';
  readonly atMs: number;
  readonly text: string;
  readonly sensorId?: string;
}

export interface LiveStatus {
  readonly atMs: number;
  readonly elapsedSeconds: number;
  readonly readingsPerSecond: number;
  readonly lag: number | null;
  readonly processed: number;
  readonly batches: number;
  readonly anomalies: number;
  readonly notifications: number;
  readonly heldBack: number;
  readonly rejected: number;
  readonly retries: number;
}

export interface LiveSnapshot {
  readonly title: string;
  readonly detection: string;
  readonly sensors: Readonly<Record<string, readonly Point[]>>;
  /** Sensors seen beyond the charted ones. */
  readonly sensorsNotCharted: number;
  readonly feed: readonly FeedLine[];
  readonly status: LiveStatus | null;
}

/** Changes since the last flush: new points per sensor, new lines, the latest status. */
export interface LiveUpdate {
  readonly points: Readonly<Record<string, readonly Point[]>>;
  readonly feed: readonly FeedLine[];
  readonly status: LiveStatus | null;
  readonly sensorsNotCharted: number;
}

export interface LiveHistoryOptions {
  /** Points kept per sensor. @default 600 */
  readonly pointsPerSensor?: number;
  /** Sensors charted, the first ones seen. @default 24 */
  readonly maxSensors?: number;
  /** Console lines kept. @default 200 */
  readonly feedLines?: number;
}

/** A fixed-size ring: push is O(1), no allocation once full. */
class Ring<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.items = new Array(capacity);
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size += 1;
  }

  toArray(): T[] {
    const out: T[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i += 1) out.push(this.items[(start + i) % this.capacity] as T);
    return out;
  }
}

export class LiveHistory {
  private readonly pointsPerSensor: number;
  private readonly maxSensors: number;
  private readonly sensors = new Map<string, Ring<Point>>();
  private readonly notCharted = new Set<string>();
  private readonly feed: Ring<FeedLine>;
  private status: LiveStatus | null = null;
  /** Changes not yet sent; only collected while someone is watching. */
  private pending: { points: Map<string, Point[]>; feed: FeedLine[]; status: boolean } | null =
    null;

  constructor(
    readonly title: string,
    readonly detection: string,
    options: LiveHistoryOptions = {},
  ) {
    this.pointsPerSensor = options.pointsPerSensor ?? 600;
    this.maxSensors = options.maxSensors ?? 24;
    this.feed = new Ring(options.feedLines ?? 200);
  }

  /** Starts or stops collecting changes for watchers (none watching: nothing is collected). */
  watch(on: boolean): void {
    if (on) this.pending ??= { points: new Map(), feed: [], status: false };
    else this.pending = null;
  }

  point(sensorId: string, point: Point): void {
    let ring = this.sensors.get(sensorId);
    if (ring === undefined) {
      if (this.sensors.size >= this.maxSensors) {
        this.notCharted.add(sensorId);
        return;
      }
      ring = new Ring(this.pointsPerSensor);
      this.sensors.set(sensorId, ring);
    }
    ring.push(point);
    if (this.pending !== null) {
      const list = this.pending.points.get(sensorId);
      if (list === undefined) this.pending.points.set(sensorId, [point]);
      else list.push(point);
    }
  }

  line(line: FeedLine): void {
    this.feed.push(line);
    this.pending?.feed.push(line);
  }

  setStatus(status: LiveStatus): void {
    this.status = status;
    if (this.pending !== null) this.pending.status = true;
  }

  snapshot(): LiveSnapshot {
    const sensors: Record<string, Point[]> = {};
    for (const [id, ring] of this.sensors) sensors[id] = ring.toArray();
    return {
      title: this.title,
      detection: this.detection,
      sensors,
      sensorsNotCharted: this.notCharted.size,
      feed: this.feed.toArray(),
      status: this.status,
    };
  }

  /** The changes since the last call, or null when there are none. */
  takeUpdate(): LiveUpdate | null {
    const p = this.pending;
    if (p === null || (p.points.size === 0 && p.feed.length === 0 && !p.status)) return null;
    this.pending = { points: new Map(), feed: [], status: false };
    return {
      points: Object.fromEntries(p.points),
      feed: p.feed,
      status: p.status ? this.status : null,
      sensorsNotCharted: this.notCharted.size,
    };
  }
}
