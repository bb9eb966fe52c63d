import { MemoryDigestStore } from '../../functions/adapters/memory-digest-store.ts';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import { SnsAlertPublisher } from '../../functions/adapters/sns-alert-publisher.ts';
import { DEFAULT_DETECTION } from '../../functions/config.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import { sendDigests } from '../../functions/digest/send-digests.ts';
import { createBatchProcessor } from '../../functions/process-batch.ts';
import { localSnsClient } from '../../local/embedded/clients.ts';
import { type PublishedMessage, startSnsEndpoint } from '../../local/embedded/sns-endpoint.ts';
import { mulberry32 } from '../../local/simulator/readings.ts';
import { cutLikeEventSourceMapping, DEPLOY_BATCHING } from '../lib/event-source-batching.ts';
import { round } from '../lib/stats.ts';
import { BENCH_T0_MS, BENCH_TOPIC } from '../workload.ts';

export interface AlertStormOptions {
  readonly quick: boolean;
}

export interface AlertStormRow {
  readonly case: 'live, before' | 'live, after' | 'first deploy, before' | 'first deploy, after';
  readonly digestPeriodSeconds: number;
  readonly readings: number;
  readonly batches: number;
  readonly anomalies: number;
  readonly stale: number;
  /** Messages each subscriber kind received over the simulated span (its filter policy applied). */
  readonly measured: SubscriberCounts;
  /** Per subscriber at the fleet: per month (live) or per day of backlog (first deploy). */
  readonly fleet: SubscriberCounts;
  readonly fleetUsd: { readonly email: number; readonly smsCritical: number };
  readonly fleetPer: 'month' | 'day of backlog';
}

export interface SubscriberCounts {
  readonly email: number;
  /** SMS with smsCriticalOnly (the default): `kind=alert`, `severity=critical`. */
  readonly smsCritical: number;
  /** Of those, `event=resolved` (a critical episode ended). */
  readonly smsResolved: number;
  /** SMS without smsCriticalOnly: every `kind=alert`. */
  readonly smsAll: number;
}

export interface AlertStormResult {
  readonly rows: readonly AlertStormRow[];
  readonly slice: {
    readonly partitions: number;
    readonly sensorsPerPartition: number;
    readonly simulatedSeconds: number;
    readonly backlogSeconds: number;
  };
  readonly fleet: { readonly sensors: number; readonly partitions: number; readonly hz: number };
  readonly prices: { readonly emailUsd: number; readonly smsUsd: number; readonly smsNote: string };
  readonly note: string;
}

/** The fleet: 100,000 one-hertz sensors on 100 partitions. */
const FLEET = { sensors: 100_000, partitions: 100, hz: 1 } as const;
/**
 * The slice measured: one of the fleet's partitions, its payloads cut alone (a payload that
 * carries several partitions has fewer, fuller batches: fewer digests per batch before).
 */
const SLICE_PARTITIONS = 1;
const SENSORS_PER_PARTITION = FLEET.sensors / FLEET.partitions;
/** A month of 30 days, as the docs' storm model counts it. */
const MONTH_SECONDS = 30 * 86_400;
const ANOMALY_EVERY = 10_000;
const FRESHNESS_SECONDS = 300;
const DIGEST_PERIOD_SECONDS = 900;
/** The first deploy reads from TRIM_HORIZON: readings three days old. */
const BACKLOG_AGE_MS = 3 * 86_400_000;
/**
 * Email deliveries $2.00 per 100,000, as bench/lib/all-in-prices.ts has it from SNS pricing.
 * SMS is priced per country and per message part ("messagePriceInDollars =
 * (carrierFeePerMessagePartsInDollars * totalMessageParts) + (messagepricePerMessagePartsInDollars
 * * totalMessageParts)", AWS re:Post knowledge center, sns-pinpoint-high-sms-charges): the US
 * base price per part is assumed here (check your countries' rates), carrier fees come on top.
 */
const PRICES = {
  emailUsd: 2 / 100_000,
  smsUsd: 0.00581,
  smsNote:
    'US base price $0.00581 per message part (one part: the SMS text stays under 140 bytes); US carrier fees come on top and are not counted',
} as const;
/** Normal values: a sine over this many steps (as bench/workload.ts, with a period of whole steps). */
const WAVE = 628;
const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:bench-storm';

/**
 * The SNS bill per subscriber in an anomaly storm (docs/bench.md, section 6): the real batch
 * use case (createBatchProcessor, in-memory store) and the real SnsAlertPublisher against the
 * loopback SNS endpoint, on one partition of the fleet (1,000 one-hertz sensors, one
 * anomaly in 10,000 readings, batches cut like the event source mapping), before (a digest per batch) and after (the digest function's use case at every
 * period end); live and as a first deploy's backlog. Each message is counted for the
 * subscriptions whose filter policy passes it (infra/constructs/alert-topics.ts), then
 * scaled to a month and to the fleet's 100 partitions.
 */
export async function runAlertStorm(options: AlertStormOptions): Promise<AlertStormResult> {
  // Three digest periods live (two in a quick run), the budget of about a minute of CPU.
  const liveSeconds = options.quick ? 1800 : 2700;
  const backlogSeconds = 600;
  const sns = await startSnsEndpoint();
  const client = localSnsClient(sns.endpoint);
  try {
    const rows: AlertStormRow[] = [];
    for (const backlog of [false, true]) {
      const seconds = backlog ? backlogSeconds : liveSeconds;
      for (const period of [0, DIGEST_PERIOD_SECONDS]) {
        rows.push(await measure({ backlog, period, seconds, sns: sns.messages, client }));
      }
    }
    return {
      rows,
      slice: {
        partitions: SLICE_PARTITIONS,
        sensorsPerPartition: SENSORS_PER_PARTITION,
        simulatedSeconds: liveSeconds,
        backlogSeconds,
      },
      fleet: FLEET,
      prices: PRICES,
      note:
        `Measured: ${liveSeconds / 60} simulated minutes live and ${backlogSeconds / 60} of backlog on ${SLICE_PARTITIONS} partition of ` +
        `${SENSORS_PER_PARTITION.toLocaleString('en-US')} one-hertz sensors (the fleet's share per partition), one anomaly in ` +
        `${ANOMALY_EVERY.toLocaleString('en-US')} readings (drawn; a spike of +500), batches of at most ${DEPLOY_BATCHING.batchSize.toLocaleString('en-US')} ` +
        `records or ${DEPLOY_BATCHING.batchingWindowMs / 1000} s, cooldown ${DEFAULT_DETECTION.alertCooldownMs / 1000} s, every message through the ` +
        "real publisher to the loopback SNS endpoint and counted by the subscriptions' filter policies. " +
        `Scaled: SMS and before's per-batch digests × ${FLEET.partitions / SLICE_PARTITIONS} (the fleet's partitions) and to a 30-day month (live) or a day of backlog (first deploy); ` +
        "after's digests are one per stack and period, so only the month scales them. " +
        `First deploy: the same readings three days old, at the live pace; before = no freshness limit and a digest per batch (the old behaviour), ` +
        `after = the defaults (freshness ${FRESHNESS_SECONDS} s, digests every ${DIGEST_PERIOD_SECONDS} s).`,
    };
  } finally {
    client.destroy();
    await sns.close();
  }
}

async function measure(spec: {
  backlog: boolean;
  period: number;
  seconds: number;
  sns: PublishedMessage[];
  client: ReturnType<typeof localSnsClient>;
}): Promise<AlertStormRow> {
  spec.sns.length = 0;
  const store = new MemoryWindowStore();
  const publisher = new SnsAlertPublisher({
    client: spec.client,
    topicArn: TOPIC_ARN,
    // As functions/detector/create-handler.ts: a digest per batch only without digests by time.
    digest: spec.period === 0,
  });
  let nowMs = BENCH_T0_MS;
  let anomalies = 0;
  let stale = 0;
  const run = createBatchProcessor(
    {
      ...DEFAULT_DETECTION,
      // Before freshness and digests by time, a backlog's anomalies paged like live ones.
      freshnessSeconds: spec.backlog && spec.period === 0 ? 0 : FRESHNESS_SECONDS,
      digestPeriodSeconds: spec.period,
    },
    {
      store,
      publisher,
      nowMs: () => nowMs,
      observer: {
        rejected: () => {},
        anomaly: (d) => {
          anomalies += 1;
          if (d.stale === true) stale += 1;
        },
        published: () => {},
      },
    },
  );
  const periodMs = spec.period * 1000;
  const digests = new MemoryDigestStore(store);
  const digestDeps = {
    digests,
    partitions: store,
    publisher,
    periodMs,
    graceMs: 60_000,
    maxPeriods: 100,
  };
  if (periodMs > 0)
    await digests.advanceCursor(null, Math.floor(BENCH_T0_MS / periodMs) * periodMs - periodMs);
  let nextDigestRunMs = BENCH_T0_MS + 60_000;

  const random = mulberry32(0x5eed);
  const enc = new TextEncoder();
  const sensors = SLICE_PARTITIONS * SENSORS_PER_PARTITION;
  // Keys and the normal values' texts made once: generating readings must not cost more than judging them.
  const keys = Array.from({ length: sensors }, (_, s) => enc.encode(`sensor_${s}`));
  const prefixes = Array.from({ length: sensors }, (_, s) => `sensor_${s},`);
  const normal = Array.from(
    { length: WAVE },
    (_, k) => `${Math.round((50 + 10 * Math.sin(k)) * 100) / 100}`,
  );
  const spike = Array.from(
    { length: WAVE },
    (_, k) => `${Math.round((550 + 10 * Math.sin(k)) * 100) / 100}`,
  );
  const offsets = new Array<number>(SLICE_PARTITIONS).fill(0);
  const ageMs = spec.backlog ? BACKLOG_AGE_MS : 0;
  let readings = 0;
  let batches = 0;
  const periodsRun = new Set<number>();
  let carry: RawRecord[] = [];
  const chunkSeconds = 30;
  for (let s0 = 0; s0 < spec.seconds; s0 += chunkSeconds) {
    const records = carry;
    for (let i = s0; i < Math.min(spec.seconds, s0 + chunkSeconds); i += 1) {
      for (let s = 0; s < sensors; s += 1) {
        const partition = s % SLICE_PARTITIONS;
        const value = (random() * ANOMALY_EVERY < 1 ? spike : normal)[(s + i) % WAVE];
        const eventTimeMs = BENCH_T0_MS - ageMs + i * 1000 + (s % 997);
        const offset = offsets[partition] ?? 0;
        offsets[partition] = offset + 1;
        records.push({
          topic: BENCH_TOPIC,
          partition,
          offset,
          timestampMs: BENCH_T0_MS + i * 1000 + 50,
          key: keys[s] as Uint8Array,
          value: enc.encode(`${prefixes[s]}${value},${eventTimeMs}`),
        });
      }
    }
    const cut = cutLikeEventSourceMapping(
      records,
      DEPLOY_BATCHING.batchSize,
      DEPLOY_BATCHING.batchingWindowMs,
    );
    const last = s0 + chunkSeconds >= spec.seconds;
    carry = last ? [] : (cut.pop() ?? []);
    for (const batch of cut) {
      // The batch runs once its last record is in (live pace), a little after it.
      nowMs = (batch.at(-1)?.timestampMs ?? nowMs) + 100;
      while (periodMs > 0 && nowMs >= nextDigestRunMs) {
        await sendDigests(digestDeps, nextDigestRunMs);
        nextDigestRunMs += 60_000;
      }
      await run(batch);
      if (periodMs > 0) periodsRun.add(Math.floor(nowMs / periodMs));
      readings += batch.length;
      batches += 1;
    }
  }
  // The periods the span touched, once closed.
  if (periodMs > 0) await sendDigests(digestDeps, nowMs + periodMs + 120_000);

  const measured = countBySubscriber(spec.sns);
  const fleetScale = FLEET.partitions / SLICE_PARTITIONS;
  const timeScale = (spec.backlog ? 86_400 : MONTH_SECONDS) / spec.seconds;
  const timeUnitSeconds = timeScale * spec.seconds;
  const fleet = {
    // A digest per batch grows with the partitions; a digest per period is one per stack: the
    // share of the periods batches ran in that got one, times the periods of the month or day.
    email: Math.round(
      spec.period === 0
        ? measured.email * fleetScale * timeScale
        : (measured.email / Math.max(1, periodsRun.size)) * (timeUnitSeconds / spec.period),
    ),
    smsCritical: Math.round(measured.smsCritical * fleetScale * timeScale),
    smsResolved: Math.round(measured.smsResolved * fleetScale * timeScale),
    smsAll: Math.round(measured.smsAll * fleetScale * timeScale),
  };
  return {
    case: `${spec.backlog ? 'first deploy' : 'live'}, ${spec.period === 0 ? 'before' : 'after'}`,
    digestPeriodSeconds: spec.period,
    readings,
    batches,
    anomalies,
    stale,
    measured,
    fleet,
    fleetUsd: {
      email: round(fleet.email * PRICES.emailUsd, 2),
      smsCritical: round(fleet.smsCritical * PRICES.smsUsd, 2),
    },
    fleetPer: spec.backlog ? 'day of backlog' : 'month',
  };
}

/**
 * What each subscription receives, by the filter policies of infra/constructs/alert-topics.ts:
 * email `kind=digest`; SMS `kind=alert` and, with smsCriticalOnly (the default),
 * `severity=critical`.
 */
function countBySubscriber(messages: readonly PublishedMessage[]): SubscriberCounts {
  let email = 0;
  let smsCritical = 0;
  let smsResolved = 0;
  let smsAll = 0;
  for (const m of messages) {
    const kind = m.messageAttributes.kind?.stringValue;
    if (kind === 'digest') email += 1;
    if (kind !== 'alert') continue;
    smsAll += 1;
    if (m.messageAttributes.severity?.stringValue !== 'critical') continue;
    smsCritical += 1;
    if (m.messageAttributes.event?.stringValue === 'resolved') smsResolved += 1;
  }
  return { email, smsCritical, smsResolved, smsAll };
}
