/**
 * What the live view remembers, bounded: the last readings of each sensor (value, baseline,
 * limit, anomaly mark) and its totals (anomalies, silence), the last console events, the latest
 * status and the detection line. A browser that (re)loads the page gets all of it for the
 * sensors it charts; later changes are sent as they come.
 */

/** Anomaly mark of a point: none, notified (sent to SNS), held back by the cooldown. */
export const MARK = { none: 0, notified: 1, heldBack: 2 } as const;
export type Mark = (typeof MARK)[keyof typeof MARK];

/** One judged reading: [eventTimeMs, value, baseline, limit, mark]. Arrays keep the JSON small. */
export type Point = readonly [number, number, number, number, Mark];

/** One console line: its kind and text, as `npm start` printed it. */
export interface FeedLine {
  readonly kind:
    | 'anomaly'
    | 'notification'
    | 'rejected'
    | 'failed'
    | 'status'
    | 'rules'
    | 'silence';
  readonly atMs: number;
  readonly text: string;
  readonly sensorId?: string;
}

/** Records not yet processed in one partition of the topic. */
export interface PartitionLag {
  readonly partition: number;
  readonly lag: number;
}

/** Event time → notification sent, over the last notifications. */
export interface AlertLatency {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly count: number;
}

export interface LiveStatus {
  readonly atMs: number;
  readonly elapsedSeconds: number;
  readonly readingsPerSecond: number;
  readonly lag: number | null;
  /** Lag per partition, when the pipeline could read it. */
  readonly partitions?: readonly PartitionLag[] | null;
  /** Filled in by the live view from the notifications it saw. */
  readonly alertLatency?: AlertLatency | null;
  readonly processed: number;
  readonly batches: number;
  readonly anomalies: number;
  readonly notifications: number;
  readonly heldBack: number;
  readonly rejected: number;
  readonly retries: number;
}

/** A sensor's totals: the page's headings and the "only sensors with anomalies" view. */
export interface SensorSummary {
  readonly id: string;
  readonly anomalies: number;
  readonly notified: number;
  /** Since when (ms) the silence check calls it silent; null while it is heard from. */
  readonly silentSinceMs: number | null;
}

/** Which sensors a browser charts: a filter on the id and whether only those with anomalies. */
export interface Selection {
  readonly filter: string;
  readonly onlyAnomalies: boolean;
}

/** The charted sensors of a selection and how many there are in all. */
export interface Selected {
  readonly charted: readonly string[];
  /** Sensors the selection matches (charted or not). */
  readonly matching: number;
  /** Sensors seen. */
  readonly total: number;
}

export interface LiveSnapshot {
  readonly title: string;
  readonly detection: string;
  readonly sensors: Readonly<Record<string, readonly Point[]>>;
  readonly summaries: readonly SensorSummary[];
  readonly selected: Omit<Selected, 'charted'>;
  /** Sensors beyond the ones kept. */
  readonly sensorsNotKept: number;
  readonly feed: readonly FeedLine[];
  readonly status: LiveStatus | null;
}

/** Changes since the last flush, for all sensors (each browser gets its charted ones). */
export interface LiveChanges {
  readonly points: ReadonlyMap<string, readonly Point[]>;
  /** Sensors first seen, or whose totals or silence changed. */
  readonly changed: ReadonlySet<string>;
  readonly feed: readonly FeedLine[];
  readonly status: LiveStatus | null;
  readonly detection: string | null;
}

export interface LiveHistoryOptions {
  /** Points kept per sensor. @default 600 */
  readonly pointsPerSensor?: number;
  /** Sensors kept, the first ones seen. @default 1000 */
  readonly maxSensors?: number;
  /** Sensors a browser charts at once (the filter picks which). @default 24 */
  readonly chartedSensors?: number;
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

/** A sensor's last points, column by column in typed arrays: no allocation per reading. */
class PointRing {
  private readonly t: Float64Array;
  private readonly v: Float64Array;
  private readonly mean: Float64Array;
  private readonly limit: Float64Array;
  private readonly mark: Uint8Array;
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
    this.mean = new Float64Array(capacity);
    this.limit = new Float64Array(capacity);
    this.mark = new Uint8Array(capacity);
  }

  push(t: number, v: number, mean: number, limit: number, mark: Mark): void {
    const i = this.next;
    this.t[i] = t;
    this.v[i] = v;
    this.mean[i] = mean;
    this.limit[i] = limit;
    this.mark[i] = mark;
    this.next = (i + 1) % this.capacity;
    if (this.size < this.capacity) this.size += 1;
  }

  toArray(): Point[] {
    const out: Point[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let k = 0; k < this.size; k += 1) {
      const i = (start + k) % this.capacity;
      out.push([
        this.t[i] as number,
        this.v[i] as number,
        this.mean[i] as number,
        this.limit[i] as number,
        this.mark[i] as Mark,
      ]);
    }
    return out;
  }
}

interface SensorState {
  readonly ring: PointRing;
  anomalies: number;
  notified: number;
  silentSinceMs: number | null;
}

const byNaturalOrder = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

export class LiveHistory {
  private readonly pointsPerSensor: number;
  private readonly maxSensors: number;
  readonly chartedSensors: number;
  private readonly sensors = new Map<string, SensorState>();
  /** Ids in natural order, rebuilt when a sensor is added. */
  private ordered: string[] | null = [];
  private readonly notKept = new Set<string>();
  private readonly feed: Ring<FeedLine>;
  private status: LiveStatus | null = null;
  private detectionText: string;
  /** Changes not yet sent; only collected while someone is watching. */
  private pending: {
    points: Map<string, Point[]>;
    changed: Set<string>;
    feed: FeedLine[];
    status: boolean;
    detection: boolean;
  } | null = null;

  constructor(
    readonly title: string,
    detection: string,
    options: LiveHistoryOptions = {},
  ) {
    this.detectionText = detection;
    this.pointsPerSensor = options.pointsPerSensor ?? 600;
    this.maxSensors = options.maxSensors ?? 1000;
    this.chartedSensors = options.chartedSensors ?? 24;
    this.feed = new Ring(options.feedLines ?? 200);
  }

  get detection(): string {
    return this.detectionText;
  }

  /** Starts or stops collecting changes for watchers (none watching: nothing is collected). */
  watch(on: boolean): void {
    if (on)
      this.pending ??= {
        points: new Map(),
        changed: new Set(),
        feed: [],
        status: false,
        detection: false,
      };
    else this.pending = null;
  }

  point(sensorId: string, t: number, v: number, mean: number, limit: number, mark: Mark): void {
    const sensor = this.sensor(sensorId);
    if (sensor === undefined) return;
    sensor.ring.push(t, v, mean, limit, mark);
    if (mark !== MARK.none) {
      sensor.anomalies += 1;
      if (mark === MARK.notified) sensor.notified += 1;
      this.pending?.changed.add(sensorId);
    }
    if (this.pending !== null) {
      const point: Point = [t, v, mean, limit, mark];
      const list = this.pending.points.get(sensorId);
      if (list === undefined) this.pending.points.set(sensorId, [point]);
      else list.push(point);
    }
  }

  /** The silence check called the sensor silent (atMs) or heard from it again (null). */
  silence(sensorId: string, silentSinceMs: number | null): void {
    const sensor = this.sensor(sensorId);
    if (sensor === undefined) return;
    sensor.silentSinceMs = silentSinceMs;
    this.pending?.changed.add(sensorId);
  }

  line(line: FeedLine): void {
    this.feed.push(line);
    this.pending?.feed.push(line);
  }

  setStatus(status: LiveStatus): void {
    this.status = status;
    if (this.pending !== null) this.pending.status = true;
  }

  /** The rules changed: the header's detection line follows. */
  setDetection(text: string): void {
    this.detectionText = text;
    if (this.pending !== null) this.pending.detection = true;
  }

  /** The sensors a browser charts: matching the filter, in natural order, the first ones. */
  select(selection: Selection): Selected {
    const filter = selection.filter.trim().toLowerCase();
    const matching: string[] = [];
    for (const id of this.orderedIds()) {
      if (filter !== '' && !id.toLowerCase().includes(filter)) continue;
      if (selection.onlyAnomalies && (this.sensors.get(id)?.anomalies ?? 0) === 0) continue;
      matching.push(id);
    }
    return {
      charted: matching.slice(0, this.chartedSensors),
      matching: matching.length,
      total: this.sensors.size + this.notKept.size,
    };
  }

  /** Every point kept of one sensor. */
  points(sensorId: string): Point[] {
    return this.sensors.get(sensorId)?.ring.toArray() ?? [];
  }

  summary(sensorId: string): SensorSummary | undefined {
    const s = this.sensors.get(sensorId);
    if (s === undefined) return undefined;
    return {
      id: sensorId,
      anomalies: s.anomalies,
      notified: s.notified,
      silentSinceMs: s.silentSinceMs,
    };
  }

  snapshot(selection: Selection): LiveSnapshot {
    const { charted, ...selected } = this.select(selection);
    const sensors: Record<string, Point[]> = {};
    for (const id of charted) sensors[id] = this.points(id);
    return {
      title: this.title,
      detection: this.detectionText,
      sensors,
      summaries: charted.map((id) => this.summary(id) as SensorSummary),
      selected,
      sensorsNotKept: this.notKept.size,
      feed: this.feed.toArray(),
      status: this.status,
    };
  }

  /** The changes since the last call, or null when there are none. */
  takeChanges(): LiveChanges | null {
    const p = this.pending;
    if (
      p === null ||
      (p.points.size === 0 &&
        p.changed.size === 0 &&
        p.feed.length === 0 &&
        !p.status &&
        !p.detection)
    )
      return null;
    this.pending = {
      points: new Map(),
      changed: new Set(),
      feed: [],
      status: false,
      detection: false,
    };
    return {
      points: p.points,
      changed: p.changed,
      feed: p.feed,
      status: p.status ? this.status : null,
      detection: p.detection ? this.detectionText : null,
    };
  }

  get sensorsNotKept(): number {
    return this.notKept.size;
  }

  private sensor(sensorId: string): SensorState | undefined {
    let sensor = this.sensors.get(sensorId);
    if (sensor !== undefined) return sensor;
    if (this.sensors.size >= this.maxSensors) {
      this.notKept.add(sensorId);
      return undefined;
    }
    sensor = {
      ring: new PointRing(this.pointsPerSensor),
      anomalies: 0,
      notified: 0,
      silentSinceMs: null,
    };
    this.sensors.set(sensorId, sensor);
    this.ordered = null;
    this.pending?.changed.add(sensorId);
    return sensor;
  }

  private orderedIds(): string[] {
    this.ordered ??= [...this.sensors.keys()].sort(byNaturalOrder);
    return this.ordered;
  }
}

/** The p-quantile (0..1) of values, nearest rank. */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank] as number;
}
