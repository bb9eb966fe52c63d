import type { DetectorConfig } from './config.ts';
import { type AdaptiveState, adaptiveStep } from './core/adaptive.ts';
import { type CooldownState, decideNotification, INITIAL_COOLDOWN } from './core/cooldown.ts';
import { compileRules, type DetectorResolver } from './core/detector-rules.ts';
import {
  type DetectorSpec,
  evaluate,
  isLearning,
  type LearnedState,
  learningStep,
} from './core/detectors.ts';
import { EWMA_INITIAL, type EwmaState, ewmaStep } from './core/ewma.ts';
import { type ParseResult, parseReading } from './core/parse-reading.ts';
import {
  type Aggregate,
  type AlertDecision,
  type Anomaly,
  EMPTY_AGGREGATE,
  type RawRecord,
  type Reading,
  SEVERITIES,
} from './core/types.ts';
import { addValue, bucketStartMs } from './core/windows.ts';
import {
  type AlertPublisher,
  type BatchObserver,
  type BatchReport,
  type BucketKey,
  type BucketWrite,
  bucketId,
  type Evaluation,
  type JournalAlert,
  type JournalWrite,
  NO_OBSERVER,
  type PartitionJournal,
  type PartitionKey,
  partitionId,
  type Rejection,
  type SensorStateWrite,
  type Snapshot,
  type WindowStore,
} from './ports.ts';

/** The detection settings the use case needs: the deployment-free part of DetectorConfig. */
export type DetectionSettings = Pick<
  DetectorConfig,
  | 'slideMs'
  | 'windowMs'
  | 'defaultDetector'
  | 'rules'
  | 'alertCooldownMs'
  | 'retentionMarginSeconds'
>;

export interface ProcessBatchDeps {
  readonly store: WindowStore;
  readonly publisher: AlertPublisher;
  readonly observer?: BatchObserver;
  /** Processing time in ms; drives TTLs and expiry, never detection. */
  readonly nowMs: () => number;
}

/** Sensor state outlives the cooldown by this much, so a quiet sensor's state still expires. */
const SENSOR_STATE_EXTRA_SECONDS = 24 * 3600;
const RAW_PREVIEW_BYTES = 200;

/**
 * The use case shared by the Lambda handler, the local pipeline and the backtest:
 * parse → evaluate → persist → alert, with the guarantees of semantics.md §6.
 *
 * Order of effects, each step idempotent so that a retry after a failure anywhere converges:
 *  1. load the partition journals, window buckets and sensor states (batched reads);
 *  2. judge every record not yet decided (offset > the partition's decided offset), in
 *     offset order, against the in-memory state;
 *  3. save each partition's journal: the decided offset and the anomalies (the outbox);
 *     from here on no retry re-judges these records, so a partially applied batch cannot
 *     change a verdict;
 *  4. save every touched bucket and sensor state once, conditional on its version; each
 *     carries per-partition watermarks so a retried record is never applied twice;
 *     a learning detector (`ewma`) changes its sensor's state with every reading, so such a
 *     sensor's item is written once per batch; its transition depends only on the prior
 *     state and the reading's value, so a retry re-applies exactly what the first try did;
 *  5. publish the journal's unpublished notifications;
 *  6. trim the journal of what is now fully done.
 */
export function createBatchProcessor(settings: DetectionSettings, deps: ProcessBatchDeps) {
  const resolveDetector = compileRules(settings.defaultDetector, settings.rules);
  const observer = deps.observer ?? NO_OBSERVER;

  return async function processBatch(records: readonly RawRecord[]): Promise<BatchReport> {
    const nowMs = deps.nowMs();
    const partitions = groupByPartition(records);
    // Per partition, each record's parse result at the record's position: cheaper than a Map
    // keyed by record (npx tsx bench/profile.ts).
    const parsed = new Map<string, ParseResult[]>();
    for (const [id, group] of partitions) parsed.set(id, group.records.map(parseReading));

    const request = loadRequest(partitions, parsed, settings);
    const snapshot = await deps.store.load(request);
    const state = new WorkingState(snapshot, nowMs);
    const judge = new Judge(settings, resolveDetector, state);

    const outcome: JudgeOutcome = {
      rejections: [],
      fresh: [],
      evaluations: observer.evaluated === undefined ? null : [],
      redelivered: 0,
      readings: 0,
      rejectedByReason: {},
    };
    const journalWrites: JournalWrite[] = [];
    const batchEnd = new Map<string, number>();
    for (const [id, group] of partitions) {
      const journal = snapshot.journals.get(id) ?? null;
      const freshAlerts = judge.partition(group, journal, parsed.get(id) ?? [], outcome);
      const lastOffset = group.records.at(-1)?.offset ?? -1;
      batchEnd.set(id, lastOffset);
      const decidedThrough = journal?.decidedThroughOffset ?? -1;
      if (lastOffset > decidedThrough) {
        journalWrites.push({
          partition: group.key,
          expectedVersion: journal?.version ?? null,
          item: {
            decidedThroughOffset: lastOffset,
            alerts: [...(journal?.alerts ?? []), ...freshAlerts],
            version: (journal?.version ?? 0) + 1,
          },
        });
      }
    }

    // Told before the commit point: if the journal write takes effect but its answer is lost,
    // the retry treats these records as decided and would never report them. So reporting is
    // at-least-once; a repeat can only follow a failed journal write and is identical.
    for (const rejection of outcome.rejections) observer.rejected(rejection);
    for (const decision of outcome.fresh) observer.anomaly(decision);
    for (const evaluation of outcome.evaluations ?? []) observer.evaluated?.(evaluation);
    // 3. The commit point of every decision in this batch.
    await deps.store.saveJournals(journalWrites);

    // 4. State: one conditional write per touched (sensor, bucket) and per changed sensor.
    const nowSeconds = Math.floor(nowMs / 1000);
    const bucketLifeSeconds = Math.ceil(settings.windowMs / 1000) + settings.retentionMarginSeconds;
    const sensorLifeSeconds =
      bucketLifeSeconds + Math.ceil(settings.alertCooldownMs / 1000) + SENSOR_STATE_EXTRA_SECONDS;
    await deps.store.saveBuckets(state.bucketWrites(nowSeconds + bucketLifeSeconds));
    await deps.store.saveSensorStates(state.sensorWrites(nowSeconds + sensorLifeSeconds));

    // 5 and 6. Every journal now saved (or loaded and not rewritten) may hold pending alerts.
    const journals = new Map<string, { key: PartitionKey; journal: PartitionJournal }>();
    for (const [id, group] of partitions) {
      const saved =
        journalWrites.find((w) => partitionId(w.partition) === id)?.item ??
        snapshot.journals.get(id);
      if (saved !== undefined) journals.set(id, { key: group.key, journal: saved });
    }
    const toPublish = [...journals.values()].flatMap(({ journal }) =>
      journal.alerts.filter((a) => a.notify && !a.published),
    );
    if (toPublish.length > 0) {
      await deps.publisher.publish(toPublish);
      observer.published(toPublish);
    }
    await deps.store.saveJournals(trimJournals(journals, batchEnd));

    return {
      records: records.length,
      readings: outcome.readings,
      rejectedByReason: outcome.rejectedByReason,
      redelivered: outcome.redelivered,
      anomalies: outcome.fresh.length,
      notificationsSent: toPublish.length,
      notificationsHeldBack: outcome.fresh.filter((d) => !d.notify).length,
      bucketsWritten: state.dirtyBucketCount(),
      bucketKeysRead: request.buckets.length,
    };
  };
}

interface PartitionGroup {
  readonly key: PartitionKey;
  readonly records: readonly RawRecord[];
}

/** Records per partition in offset order; a repeated offset within one batch counts once. */
function groupByPartition(records: readonly RawRecord[]): Map<string, PartitionGroup> {
  const byId = new Map<string, { key: PartitionKey; records: RawRecord[] }>();
  // An event lists each partition's records together: look the group up only when it changes.
  let group: { key: PartitionKey; records: RawRecord[] } | undefined;
  for (const record of records) {
    if (group?.key.topic !== record.topic || group.key.partition !== record.partition) {
      const key = { topic: record.topic, partition: record.partition };
      const id = partitionId(key);
      group = byId.get(id);
      if (group === undefined) {
        group = { key, records: [] };
        byId.set(id, group);
      }
    }
    group.records.push(record);
  }
  const sorted = [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const result = new Map<string, PartitionGroup>();
  for (const [id, group] of sorted) {
    // Lambda delivers a partition in offset order: sort and de-duplicate only when it is not.
    if (strictlyIncreasing(group.records)) {
      result.set(id, group);
      continue;
    }
    group.records.sort((a, b) => a.offset - b.offset);
    const unique = group.records.filter((r, i, all) => i === 0 || all[i - 1]?.offset !== r.offset);
    result.set(id, { key: group.key, records: unique });
  }
  return result;
}

function strictlyIncreasing(records: readonly RawRecord[]): boolean {
  for (let i = 1; i < records.length; i += 1) {
    if ((records[i - 1] as RawRecord).offset >= (records[i] as RawRecord).offset) return false;
  }
  return true;
}

function loadRequest(
  partitions: ReadonlyMap<string, PartitionGroup>,
  parsed: ReadonlyMap<string, readonly ParseResult[]>,
  settings: DetectionSettings,
) {
  // Keys in first-seen order, de-duplicated per sensor by bucket start: building and hashing
  // a bucketId string per reading and window bucket was the use case's top cost.
  const buckets: BucketKey[] = [];
  const seen = new Map<string, Set<number>>();
  for (const id of partitions.keys()) {
    for (const result of parsed.get(id) ?? []) {
      if (!result.ok) continue;
      const { sensorId, eventTimeMs } = result.reading;
      let starts = seen.get(sensorId);
      if (starts === undefined) {
        starts = new Set();
        seen.set(sensorId, starts);
      }
      const last = bucketStartMs(eventTimeMs, settings);
      for (let k = settings.windowMs / settings.slideMs - 1; k >= 0; k -= 1) {
        const start = last - k * settings.slideMs;
        if (starts.has(start)) continue;
        starts.add(start);
        buckets.push({ sensorId, bucketStartMs: start });
      }
    }
  }
  return {
    buckets,
    sensorIds: [...seen.keys()],
    partitions: [...partitions.values()].map((g) => g.key),
  };
}

interface JudgeOutcome {
  readonly rejections: Rejection[];
  readonly fresh: AlertDecision[];
  /** Null unless the observer asked for every evaluation. */
  readonly evaluations: Evaluation[] | null;
  readonly rejectedByReason: Record<string, number>;
  redelivered: number;
  readings: number;
}

/** Walks one partition's records in offset order, applying and judging them in memory. */
class Judge {
  constructor(
    private readonly settings: DetectionSettings,
    private readonly resolveDetector: DetectorResolver,
    private readonly state: WorkingState,
  ) {}

  partition(
    group: PartitionGroup,
    journal: PartitionJournal | null,
    parsed: readonly ParseResult[],
    outcome: JudgeOutcome,
  ): JournalAlert[] {
    const pid = partitionId(group.key);
    const decidedThrough = journal?.decidedThroughOffset ?? -1;
    const journaled = new Map((journal?.alerts ?? []).map((a) => [a.anomaly.source.offset, a]));
    const fresh: JournalAlert[] = [];
    for (let i = 0; i < group.records.length; i += 1) {
      const record = group.records[i] as RawRecord;
      const decided = record.offset <= decidedThrough;
      if (decided) outcome.redelivered += 1;
      const result = parsed[i];
      if (result === undefined) continue;
      if (!result.ok) {
        if (!decided) {
          outcome.rejections.push(toRejection(record, result));
          outcome.rejectedByReason[result.reason] =
            (outcome.rejectedByReason[result.reason] ?? 0) + 1;
        }
        continue;
      }
      if (!decided) outcome.readings += 1;
      const reading = result.reading;
      const spec = this.resolveDetector(reading.sensorId);
      this.state.applyToBucket(reading, pid, this.settings);
      if (decided) {
        // Judged in an earlier attempt: replay the effects on the sensor's item that may not
        // have been saved (the cooldown from the journaled decision, the learned state from
        // the value); the verdict itself stays the journaled one.
        const earlier = journaled.get(record.offset);
        if (earlier !== undefined || isLearning(spec)) {
          this.state.updateSensor(reading.sensorId, pid, record.offset, (sensor) => {
            if (earlier !== undefined) applyCooldown(sensor, earlier);
            learn(sensor, spec, reading.value);
          });
        }
        continue;
      }
      const decision = this.judge(reading, pid, spec, outcome);
      if (decision !== null) {
        fresh.push({ ...decision, published: false });
        outcome.fresh.push(decision);
      }
    }
    return fresh;
  }

  private judge(
    reading: Reading,
    pid: string,
    spec: DetectorSpec,
    outcome: JudgeOutcome,
  ): AlertDecision | null {
    const window = this.state.windowAggregate(reading, this.settings);
    // A learning detector's one pure step gives both the verdict and the state it leaves.
    const prior = isLearning(spec) ? this.state.learned(reading.sensorId, spec) : undefined;
    const step = isLearning(spec) ? learningStep(spec, prior, reading.value) : null;
    const learning = step !== null;
    const verdict = step?.verdict ?? evaluate(spec, window, reading.value);
    const learnOnce = (sensor: WorkingSensor) =>
      learn(sensor, spec, reading.value, prior, step?.state);
    outcome.evaluations?.push({ reading, detector: spec, window, verdict });
    if (!verdict.anomaly) {
      if (learning) {
        this.state.updateSensor(reading.sensorId, pid, reading.source.offset, learnOnce);
      }
      return null;
    }
    const { topic, partition, offset } = reading.source;
    const anomaly: Anomaly = {
      alertId: `${topic}-${partition}-${offset}`,
      sensorId: reading.sensorId,
      value: reading.value,
      mean: verdict.mean,
      count: verdict.count,
      deviation: verdict.deviation,
      limit: verdict.limit,
      detector: spec.kind,
      ...(spec.kind === 'threshold' ? {} : { sigma: spec.sigma }),
      eventTimeMs: reading.eventTimeMs,
      severity: verdict.deviation >= 2 * verdict.limit ? SEVERITIES.critical : SEVERITIES.warning,
      source: reading.source,
    };
    let result: AlertDecision | null = null;
    this.state.updateSensor(reading.sensorId, pid, offset, (sensor) => {
      const decision = decideNotification(
        sensor.cooldown,
        reading.eventTimeMs,
        this.settings.alertCooldownMs,
      );
      result = { anomaly, notify: decision.notify, heldBackBefore: decision.heldBackBefore };
      applyCooldown(sensor, result);
      learnOnce(sensor);
    });
    return result;
  }
}

/** A reading's effect on what a learning detector knows of its sensor; none for the others. */
function learn(
  sensor: WorkingSensor,
  spec: DetectorSpec,
  value: number,
  prior?: LearnedState,
  next?: LearnedState,
): void {
  // `next` is the step already taken from `prior` for this reading: reuse it if the sensor is
  // still in that state (it always is: nothing runs between the verdict and this update).
  if (spec.kind === 'ewma') {
    const from = sensor.ewma ?? EWMA_INITIAL;
    sensor.ewma =
      next !== undefined && prior === from ? (next as EwmaState) : ewmaStep(spec, from, value);
  } else if (spec.kind === 'adaptive') {
    sensor.adaptive =
      next !== undefined && prior === sensor.adaptive
        ? (next as AdaptiveState)
        : adaptiveStep(spec, sensor.adaptive, value).state;
  }
}

/** A decision's effect on its sensor's cooldown (semantics.md §4). */
function applyCooldown(sensor: WorkingSensor, decision: AlertDecision): void {
  sensor.cooldown = decision.notify
    ? { lastNotifiedEventTimeMs: decision.anomaly.eventTimeMs, heldBack: 0 }
    : {
        lastNotifiedEventTimeMs: sensor.cooldown.lastNotifiedEventTimeMs,
        heldBack: sensor.cooldown.heldBack + 1,
      };
}

function toRejection(record: RawRecord, result: Extract<ParseResult, { ok: false }>): Rejection {
  const bytes = record.value ?? new Uint8Array();
  return {
    source: { topic: record.topic, partition: record.partition, offset: record.offset },
    reason: result.reason,
    detail: result.detail,
    rawPreview: Buffer.from(bytes.subarray(0, RAW_PREVIEW_BYTES)).toString('utf8'),
  };
}

interface WorkingBucket {
  readonly key: BucketKey;
  aggregate: Aggregate;
  watermarks: Record<string, number>;
  readonly expectedVersion: number | null;
  dirty: boolean;
}

interface WorkingSensor {
  cooldown: CooldownState;
  /** Undefined until a learning detector has seen the sensor. */
  ewma: EwmaState | undefined;
  /** Undefined until the `adaptive` detector has seen the sensor. */
  adaptive: AdaptiveState | undefined;
  watermarks: Record<string, number>;
  readonly expectedVersion: number | null;
  dirty: boolean;
}

/**
 * The batch's view of the store: loaded items, expired ones treated as absent (DynamoDB
 * deletes expired items up to days late), plus this batch's changes.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html
 */
class WorkingState {
  /** By sensor, then bucket start: no key string to build and hash on every lookup. */
  private readonly buckets = new Map<string, Map<number, WorkingBucket>>();
  /** Every bucket in the order first touched, so writes keep the order they always had. */
  private readonly touched: WorkingBucket[] = [];
  private lastSensorId: string | undefined;
  private lastSensorBuckets: Map<number, WorkingBucket> | undefined;
  private readonly sensors = new Map<string, WorkingSensor>();
  private readonly nowSeconds: number;

  constructor(
    private readonly snapshot: Snapshot,
    nowMs: number,
  ) {
    this.nowSeconds = Math.floor(nowMs / 1000);
  }

  private bucket(sensorId: string, bucketStartMs: number): WorkingBucket {
    // A reading looks up its sensor three times in a row (window, then its own bucket).
    let bySensor =
      sensorId === this.lastSensorId ? this.lastSensorBuckets : this.buckets.get(sensorId);
    if (bySensor === undefined) {
      bySensor = new Map();
      this.buckets.set(sensorId, bySensor);
    }
    this.lastSensorId = sensorId;
    this.lastSensorBuckets = bySensor;
    let bucket = bySensor.get(bucketStartMs);
    if (bucket === undefined) {
      const key = { sensorId, bucketStartMs };
      const stored = this.snapshot.buckets.get(bucketId(key));
      const live = stored !== undefined && stored.expiresAtEpochSeconds > this.nowSeconds;
      bucket = {
        key,
        aggregate: live ? stored.aggregate : EMPTY_AGGREGATE,
        watermarks: live ? { ...stored.watermarks } : {},
        // An expired item is overwritten, still conditional on the version it had.
        expectedVersion: stored?.version ?? null,
        dirty: false,
      };
      bySensor.set(bucketStartMs, bucket);
      this.touched.push(bucket);
    }
    return bucket;
  }

  /**
   * The reading's window: its buckets added oldest first, the very additions combine() makes
   * in the same order (so the same bits), without a key object, an array or a partial sum
   * per bucket.
   */
  windowAggregate(reading: Reading, settings: DetectionSettings): Aggregate {
    let count = EMPTY_AGGREGATE.count;
    let sum = EMPTY_AGGREGATE.sum;
    let sumSq = EMPTY_AGGREGATE.sumSq;
    const last = bucketStartMs(reading.eventTimeMs, settings);
    for (let k = settings.windowMs / settings.slideMs - 1; k >= 0; k -= 1) {
      const a = this.bucket(reading.sensorId, last - k * settings.slideMs).aggregate;
      count += a.count;
      sum += a.sum;
      sumSq += a.sumSq;
    }
    return { count, sum, sumSq };
  }

  /** Adds the reading to its bucket unless the bucket's watermark shows it is already in. */
  applyToBucket(reading: Reading, pid: string, settings: DetectionSettings): void {
    const bucket = this.bucket(reading.sensorId, bucketStartMs(reading.eventTimeMs, settings));
    const applied = bucket.watermarks[pid];
    if (applied !== undefined && reading.source.offset <= applied) return;
    bucket.aggregate = addValue(bucket.aggregate, reading.value);
    bucket.watermarks[pid] = reading.source.offset;
    bucket.dirty = true;
  }

  private sensor(sensorId: string): WorkingSensor {
    let sensor = this.sensors.get(sensorId);
    if (sensor === undefined) {
      const stored = this.snapshot.sensors.get(sensorId);
      const live = stored !== undefined && stored.expiresAtEpochSeconds > this.nowSeconds;
      sensor = {
        cooldown: live ? stored.cooldown : INITIAL_COOLDOWN,
        ewma: live ? stored.ewma : undefined,
        adaptive: live ? stored.adaptive : undefined,
        watermarks: live ? { ...stored.watermarks } : {},
        expectedVersion: stored?.version ?? null,
        dirty: false,
      };
      this.sensors.set(sensorId, sensor);
    }
    return sensor;
  }

  /** What the learning detector knows of the sensor so far, this batch's readings included. */
  learned(sensorId: string, spec: DetectorSpec): EwmaState | AdaptiveState | undefined {
    const sensor = this.sensor(sensorId);
    return spec.kind === 'adaptive' ? sensor.adaptive : (sensor.ewma ?? EWMA_INITIAL);
  }

  /**
   * Applies one reading's whole effect on its sensor's item (cooldown, learned state) once
   * per (partition, offset): the item's watermark says whether it is already in.
   */
  updateSensor(
    sensorId: string,
    pid: string,
    offset: number,
    apply: (sensor: WorkingSensor) => void,
  ): void {
    const sensor = this.sensor(sensorId);
    const applied = sensor.watermarks[pid];
    if (applied !== undefined && offset <= applied) return;
    apply(sensor);
    sensor.watermarks[pid] = offset;
    sensor.dirty = true;
  }

  dirtyBucketCount(): number {
    let n = 0;
    for (const b of this.touched) if (b.dirty) n += 1;
    return n;
  }

  bucketWrites(expiresAtEpochSeconds: number): BucketWrite[] {
    const writes: BucketWrite[] = [];
    for (const b of this.touched) {
      if (!b.dirty) continue;
      writes.push({
        key: b.key,
        expectedVersion: b.expectedVersion,
        item: {
          aggregate: b.aggregate,
          watermarks: b.watermarks,
          version: (b.expectedVersion ?? 0) + 1,
          expiresAtEpochSeconds,
        },
      });
    }
    return writes;
  }

  sensorWrites(expiresAtEpochSeconds: number): SensorStateWrite[] {
    const writes: SensorStateWrite[] = [];
    for (const [sensorId, s] of this.sensors) {
      if (!s.dirty) continue;
      writes.push({
        sensorId,
        expectedVersion: s.expectedVersion,
        item: {
          cooldown: s.cooldown,
          ...(s.ewma === undefined ? {} : { ewma: s.ewma }),
          ...(s.adaptive === undefined ? {} : { adaptive: s.adaptive }),
          watermarks: s.watermarks,
          version: (s.expectedVersion ?? 0) + 1,
          expiresAtEpochSeconds,
        },
      });
    }
    return writes;
  }
}

/**
 * After a successful batch, a journal keeps only alerts past the batch's last offset (from a
 * longer earlier attempt), marked published. A journal that is already minimal is not rewritten.
 */
function trimJournals(
  journals: ReadonlyMap<string, { key: PartitionKey; journal: PartitionJournal }>,
  batchEnd: ReadonlyMap<string, number>,
): JournalWrite[] {
  const writes: JournalWrite[] = [];
  for (const [id, { key, journal }] of journals) {
    if (journal.alerts.length === 0) continue;
    const end = batchEnd.get(id) ?? -1;
    const kept = journal.alerts
      .filter((a) => a.anomaly.source.offset > end)
      .map((a) => ({ ...a, published: a.published || a.notify }));
    writes.push({
      partition: key,
      expectedVersion: journal.version,
      item: {
        decidedThroughOffset: journal.decidedThroughOffset,
        alerts: kept,
        version: journal.version + 1,
      },
    });
  }
  return writes;
}
