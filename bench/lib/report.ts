import type { AlertStormResult } from '../parts/alert-storm.ts';
import type { ComputeResult } from '../parts/compute.ts';
import type { DynamoDbResult } from '../parts/dynamodb.ts';
import type { EndToEndResult } from '../parts/e2e.ts';
import type { FleetResult } from '../parts/fleet.ts';
import type { MemoryResult } from '../parts/memory.ts';
import type { SilenceResult } from '../parts/silence.ts';
import type { WindowCloseResult } from '../parts/window-close.ts';
import { PRICES } from './cost-model.ts';
import { grouped, usd } from './stats.ts';

export interface BenchResults {
  readonly generatedAt: string;
  readonly command: string;
  readonly quick: boolean;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly node: string;
    readonly platform: string;
    readonly memoryGb: number;
    /** 1-minute load average when the run started and when it ended: other work on the machine. */
    readonly loadAverageStart: number;
    readonly loadAverageEnd: number;
  };
  readonly secondsByPart: Record<string, number>;
  /** Parts not run this time, kept from an earlier run: part → when that run was. */
  readonly carriedFrom: Record<string, string>;
  readonly compute?: ComputeResult;
  readonly dynamodb?: DynamoDbResult;
  readonly e2e?: EndToEndResult;
  readonly fleet?: FleetResult;
  readonly memory?: MemoryResult;
  readonly silence?: SilenceResult;
  readonly 'window-close'?: WindowCloseResult;
  readonly 'alert-storm'?: AlertStormResult;
}

const ok = (pass: boolean) => (pass ? '✅' : '❌');

/** The results as the Markdown tables of bench/results/latest.md (and docs/bench.md). */
export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const lines: string[] = [
    '# Benchmark results',
    '',
    `\`${r.command}\` — ${r.generatedAt}${r.quick ? ' (quick run)' : ''}`,
    '',
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node} (${m.platform}); ` +
      `load average ${m.loadAverageStart.toFixed(2)} at the start, ${m.loadAverageEnd.toFixed(2)} at the end. ` +
      `Parts took ${Object.entries(r.secondsByPart)
        .map(([p, s]) => `${p} ${s} s`)
        .join(', ')}.` +
      (Object.keys(r.carriedFrom ?? {}).length === 0
        ? ''
        : ` Not run this time, kept from earlier runs: ${Object.entries(r.carriedFrom)
            .map(([p, at]) => `${p} (${at})`)
            .join(', ')}.`),
    '',
  ];
  if (r.compute !== undefined) lines.push(...computeSection(r.compute));
  if (r.dynamodb !== undefined) lines.push(...dynamodbSection(r.dynamodb));
  if (r.fleet !== undefined) lines.push(...fleetSection(r.fleet));
  if (r.e2e !== undefined) lines.push(...e2eSection(r.e2e));
  if (r.memory !== undefined) lines.push(...memorySection(r.memory));
  if (r.silence !== undefined) lines.push(...silenceSection(r.silence));
  const wc = r['window-close'];
  if (wc !== undefined) lines.push(...windowCloseSection(wc));
  const storm = r['alert-storm'];
  if (storm !== undefined) lines.push(...alertStormSection(storm));
  return `${lines.join('\n')}\n`;
}

function computeSection(c: ComputeResult): string[] {
  return [
    '## 1. Handler compute against its floor',
    '',
    'Floor: base64-decoding and parsing the batch and nothing else. Handler: the same event through the',
    'use case (`recordsFromEvent` + `createBatchProcessor`) with the in-memory store. Target: ratio ≤ 2.',
    '',
    '| batch | event | floor (decode + parse) | handler | handler ÷ floor (min–max) | target |',
    '| --- | ---: | ---: | ---: | ---: | :---: |',
    ...c.cases.map(
      (k) =>
        `| ${k.name} | ${(k.eventBytes / 1e6).toFixed(1)} MB | ${k.floorMs.toFixed(1)} ms (${k.floorDecodeMs.toFixed(1)} + ${k.floorParseMs.toFixed(1)}), ` +
        `${grouped(k.floorRecordsPerSecond)} rec/s | ${k.handlerMs.toFixed(1)} ms, ${grouped(k.handlerRecordsPerSecond)} rec/s | ` +
        `**${k.ratio.toFixed(2)}** (${k.ratioMin.toFixed(2)}–${k.ratioMax.toFixed(2)}) | ${ok(k.meetsTarget)} ≤ ${k.targetRatio} |`,
    ),
    '',
    `${c.note}. Medians of the repetitions; the ratio is the median of per-repetition ratios.`,
    '',
  ];
}

function dynamodbSection(d: DynamoDbResult): string[] {
  const lines = [
    '## 2. DynamoDB requests against the limit (dynalite)',
    '',
    'Layout of docs/state.md: one bucket page per (partition, bucket, 1,024 sensor indices) packs the aggregates',
    'of those sensors (no ids), so a batch writes far fewer bucket items than the (sensor, bucket) pairs it touches;',
    'checked: every item under 100 KB. Besides bucket pages the use case writes one root per partition (one more',
    'when its outbox was delivered), a dictionary page when sensors are new, and a state page per 256 sensors whose',
    'cooldowns or learned state changed. Naive: one UpdateItem + one GetItem per reading and one Publish per anomaly.',
    '',
    '| batch shape (10,000 records) | pairs | bucket items / pair | all writes / pair | root + dictionary + state writes | BatchGetItem (limit) | WRU | RRU | handler CPU (per request) | naive writes / reads / publishes | naive ÷ ours: write req · WRU · RRU | |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |',
  ];
  for (const s of d.shapes) {
    const n = s.naive;
    lines.push(
      `| ${s.name} | ${grouped(s.pairs)} | **${s.bucketWritesPerPair.toFixed(3)}** | ${s.totalWritesPerPair.toFixed(3)} | ` +
        `${s.rootWrites} + ${s.dictWrites} + ${s.stateWrites} | ${s.batchGetCalls} (${s.batchGetLimit}) | ${grouped(s.wru)} | ${grouped(s.rru)} | ` +
        `${grouped(s.handlerCpuMs)} ms (${Math.round(s.cpuMsPerRequest * 1000)} µs) | ` +
        `${grouped(n.writeRequestsPerRecord * s.records)} / ${grouped(n.readRequestsPerRecord * s.records)} / ${grouped(Math.round(n.publishesPerRecord * s.records))} | ` +
        `${s.ratios.writeRequests.toFixed(1)}× · ${s.ratios.wru.toFixed(1)}× · ${s.ratios.rru.toFixed(2)}× | ${ok(s.meetsLimits)} |`,
    );
  }
  const storm = d.shapes.find((s) => s.name.startsWith('anomaly storm'));
  lines.push(
    '',
    `Largest item written: ${grouped(Math.max(...d.shapes.map((s) => s.largestItemBytes)))} bytes` +
      (storm === undefined
        ? '.'
        : ` (in the anomaly storm: ${grouped(storm.anomalies)} anomalies in the batch, ${grouped(storm.notificationsSent)} notifications in ` +
          `${Object.entries(storm.snsCalls)
            .map(([c, k]) => `${k} ${c.replace('Command', '')}`)
            .join(' + ')}; the naive design would publish every anomaly).`),
    `${d.note}`,
    '',
    `### Cost per million readings (${PRICES.region}, on-demand $${PRICES.dynamodbWriteRequestUnitPerMillionUsd}/M WRU, ` +
      `$${PRICES.dynamodbReadRequestUnitPerMillionUsd}/M RRU; Lambda Arm ${d.lambdaAssumptions.memoryMb} MB at $${PRICES.lambdaArmGbSecondUsd}/GB-s)`,
    '',
    '| stream (batches cut like the event source mapping) | readings / sensor / batch | ours: WRU · RRU per reading | ours: DynamoDB + Lambda | naive: WRU · RRU per reading | naive | naive ÷ ours |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const c of d.costScenarios) {
    lines.push(
      `| ${c.name}: ${grouped(c.sensors)} sensors, ${c.seconds} s | ${c.readingsPerSensorPerBatch} | ${c.ours.wruPerReading.toFixed(3)} · ${c.ours.rruPerReading.toFixed(3)} | ` +
        `**${usd(c.ours.costPerMillion.totalUsd)}** (${usd(c.ours.costPerMillion.dynamodbWritesUsd + c.ours.costPerMillion.dynamodbReadsUsd)} + ${usd(c.ours.costPerMillion.lambdaUsd)}) | ` +
        `${c.naive.wruPerReading.toFixed(2)} · ${c.naive.rruPerReading.toFixed(2)} | ${usd(c.naive.costPerMillion.totalUsd)} | ${c.costRatio.toFixed(2)}× |`,
    );
  }
  lines.push(
    '',
    "Lambda duration per batch = the handler process's CPU time for the batch on this machine (use case, adapters,",
    `AWS SDK; dynalite runs in another process) ÷ the CPU share of ${d.lambdaAssumptions.memoryMb} MB (1 vCPU at ${d.lambdaAssumptions.fullVcpuMemoryMb} MB) + assumed round trips ` +
      `(BatchGetItem ${d.lambdaAssumptions.batchGetRoundTripMs} ms, PutItem ${d.lambdaAssumptions.putRoundTripMs} ms, ${d.lambdaAssumptions.writeConcurrency} in parallel per phase); ` +
      'the naive design waits for its requests one reading at a time per partition. Model and sources: docs/bench.md.',
  );
  if (d.fleet === undefined) return [...lines, ''];
  lines.push(
    '',
    `### Monthly cost of a fleet (730 h; ours and naive at the deploy defaults' measured cost per reading)`,
    '',
    `Managed Flink: $${d.fleet.flink.kpuHourUsd}/KPU-hour, max(${d.fleet.flink.minimumKpus}, ceil(rate / ${grouped(d.fleet.flink.readingsPerSecondPerKpu)}) + ${d.fleet.flink.orchestrationKpus}) KPUs ` +
      `(${grouped(d.fleet.flink.readingsPerSecondPerKpu)} readings/s per KPU assumed; sources in bench/lib/cost-model.ts).`,
    '',
    '| sensors | rate | readings/s | ours | naive | Managed Flink (KPUs) | cheapest |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const r of d.fleet.rows) {
    const cheapest = r.oursMonthlyUsd <= r.flinkMonthlyUsd ? 'ours' : 'Managed Flink';
    lines.push(
      `| ${grouped(r.sensors)} | ${r.hz} Hz | ${grouped(r.readingsPerSecond)} | **$${grouped(Math.round(r.oursMonthlyUsd))}** | $${grouped(Math.round(r.naiveMonthlyUsd))} | ` +
        `$${grouped(Math.round(r.flinkMonthlyUsd))} (${r.flinkKpus}) | ${cheapest} |`,
    );
  }
  lines.push(
    '',
    `Managed Flink becomes cheaper above ${Object.entries(d.fleet.crossoverReadingsPerSecond)
      .map(([hz, rate]) => `**${grouped(rate)} readings/s** for ${hz} sensors`)
      .join(' and ')}.`,
    '',
  );
  return lines;
}

function e2eSection(e: EndToEndResult): string[] {
  if ('skipped' in e)
    return ['## 3. End to end on the local pipeline', '', `Skipped: ${e.skipped}.`, ''];
  return [
    '## 3. End to end on the local pipeline',
    '',
    `Kafka: ${e.kafka}; poller batching ≤ ${e.batching.batchSize} records / ${e.batching.batchingWindowMs} ms window (deploy defaults).`,
    '',
    `| produce → SNS notification (${grouped(e.sensors)} sensors) | rate | probes (notified) | p50 | p95 | p99 | max |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...e.latency.map(
      (l) =>
        `| batching window ${l.batchingWindowMs} ms | ${grouped(l.ratePerSecond)}/s | ${l.probes} (${l.notified}) | **${grouped(l.p50Ms)} ms** | ` +
        `${grouped(l.p95Ms)} ms | ${grouped(l.p99Ms)} ms | ${grouped(l.maxMs)} ms |`,
    ),
    '',
    `Sustained without growing lag, as \`npm start\` runs it: **${grouped(e.maxSustainedRate)} readings/s** from ${grouped(e.sensors)} sensors` +
      (e.maxSustainedRateFewSensors === undefined || e.fewSensors === undefined
        ? '.'
        : `; **${grouped(e.maxSustainedRateFewSensors)} readings/s** from ${grouped(e.fewSensors)} sensors (more readings per (sensor, bucket) pair, so fewer writes per reading).`),
    '',
    '| sensors | target | achieved | lag growth | max lag | lag at end | invocations × records | median invoke | |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...e.ladder.map(
      (s) =>
        `| ${grouped(s.sensors)} | ${grouped(s.targetRate)}/s | ${grouped(s.achievedRate)}/s | ${s.lagGrowthPerSecond.toFixed(0)}/s | ${grouped(s.maxLag)} | ` +
        `${grouped(s.endLag)} | ${s.invocations} × ${s.meanBatchRecords} | ${s.medianInvokeMs} ms | ${ok(s.sustained)} ${s.verdict} |`,
    ),
    '',
    e.note,
    '',
  ];
}

function memorySection(m: MemoryResult): string[] {
  return [
    '## 4. Memory on a batch at the payload limit',
    '',
    '| event | records | RSS after init | after JSON.parse | peak RSS (maxRSS) | VmHWM | handler time | function memory |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${(m.eventBytes / 1e6).toFixed(2)} MB | ${grouped(m.records)} | ${m.rssAfterInitMb} MB | ${m.rssAfterParseMb} MB | **${m.maxRssMb} MB** | ` +
      `${m.vmHwmMb ?? 'n/a'} MB | ${grouped(m.handlerMs)} ms (dynalite) | ${m.lambdaMemoryMb} MB |`,
    '',
    `${m.note}`,
    '',
  ];
}

function silenceSection(s: SilenceResult): string[] {
  return [
    '## 5. Silent sensors: the scheduled check per month (docs/silence.md)',
    '',
    'The real LastSeenRecorder and checkSilence against dynalite: last-seen records as the detector writes them, then',
    `checks with every sensor reporting (the steady state). Check: ${s.checkMemoryMb} MB Arm, every minute (730 h).`,
    '',
    '| fleet | last-seen record | its writes / partition / month | check: requests · RRU · CPU | check Lambda | invocations + duration | check reads | last-seen writes | **total / month** |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...s.scenarios.map(
      (c) =>
        `| ${c.name} | ${grouped(c.seenItemBytes)} B (${c.wruPerSeenWrite} WRU) | ${grouped(c.seenWritesPerPartitionPerMonth)} | ` +
        `${Object.entries(c.checkRequests)
          .map(([k, n]) => `${n} ${k.replace('Command', '')}`)
          .join(' + ')} · ${c.checkRru} · ${c.checkCpuMs} ms | ${c.checkLambdaSeconds} s | ` +
        `${usd(c.monthlyUsd.checkInvocations + c.monthlyUsd.checkDuration)} | ${usd(c.monthlyUsd.checkReads)} | ${usd(c.monthlyUsd.seenWrites)} | **${usd(c.monthlyUsd.total)}** |`,
    ),
    '',
    `${s.note}`,
    '',
  ];
}

function fleetSection(f: FleetResult): string[] {
  const lines = [
    '## 2b. The fleet table, measured (all-in, deploy defaults)',
    '',
    f.note,
    '',
    '| fleet | partitions | readings/s | readings / partition / batch | per batch: partitions · roots · pages · BatchGetItem · WRU · RRU | failed conditions | WRU · RRU per reading | largest item | all-in on-demand / month | $ per million (on-demand) | provisioned (auto scaling 70%) / month · $ per million | Managed Flink at 5,000 · 10,000 readings/s per KPU |',
    '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of f.rows) {
    const b = r.perBatch;
    lines.push(
      `| ${grouped(r.sensors)} × ${r.hz} Hz | ${r.partitions} | ${grouped(r.readingsPerSecond)} | ${grouped(r.readingsPerPartitionPerBatch)} | ` +
        `${b.partitions} · ${b.rootWrites} · ${b.pageWrites} · ${b.batchGetCalls} · ${b.wru} · ${b.rru} | ${b.failedConditionalWrites} | ` +
        `${r.perReading.wru.toFixed(4)} · ${r.perReading.rru.toFixed(5)} | ${grouped(r.largestItemBytes)} B | ` +
        `${usd(r.monthlyOnDemandUsd)} | **$${r.perMillionOnDemandUsd.toFixed(4)}** | ${usd(r.monthlyProvisionedUsd)} · $${r.perMillionProvisionedUsd.toFixed(4)} | ` +
        `${usd(r.flink5kUsd)} · ${usd(r.flink10kUsd)} |`,
    );
  }
  lines.push(
    '',
    'What the on-demand month is made of:',
    '',
    '| fleet | DynamoDB writes | DynamoDB reads | Lambda | CloudWatch Logs (bytes / reading) | custom metrics | alarms + dashboard | KMS | SNS | storage + PITR (GB) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of f.rows) {
    const m = r.monthly;
    lines.push(
      `| ${grouped(r.sensors)} × ${r.hz} Hz | ${usd(m.dynamodbWrites ?? 0)} | ${usd(m.dynamodbReads ?? 0)} | ${usd(m.lambda ?? 0)} | ` +
        `${usd(m.logs ?? 0)} (${r.perReading.logBytes.toFixed(1)}) | ${usd(m.metrics ?? 0)} (${r.customMetrics}) | ${usd(m.alarmsAndDashboard ?? 0)} | ` +
        `${usd(m.kms ?? 0)} | ${usd(m.sns ?? 0)} | ${usd(m.storageAndPitr ?? 0)} (${r.storageGb}) |`,
    );
  }
  const u = f.unkeyed;
  lines.push(
    '',
    `Unkeyed producer, ${grouped(u.sensors)} × ${u.hz} Hz through the repartition step: ${u.extraInvocationsPerMillion} more Lambda ` +
      `invocations per million readings, ${u.extraKafkaBytesPerReading} more Kafka bytes per reading (the keyed topic), ` +
      `+$${u.extraUsdPerMillion.toFixed(4)} per million: **$${u.perMillionOnDemandUsd.toFixed(4)}** per million all-in.`,
    '',
  );
  return lines;
}

function windowCloseSection(r: WindowCloseResult): string[] {
  return [
    '## Window-close evaluation beside arrival',
    '',
    '| stream | evaluation | readings | WRU / reading | other items WRU / reading | bytes of other items / reading | RRU / reading | CPU ms / reading | $ per million readings (DynamoDB writes + reads + Lambda) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map(
      (row) =>
        `| ${row.stream} | ${row.evaluation} | ${grouped(row.readings)} | ${row.wru} | ${row.otherItemWru} | ${row.otherItemBytesPerReading} | ${row.rru} | ${row.cpuMsPerReading} | ${usd(row.usdPerMillion.total)} (${usd(row.usdPerMillion.dynamodbWrites)} + ${usd(row.usdPerMillion.dynamodbReads)} + ${usd(row.usdPerMillion.lambda)}) |`,
    ),
    '',
    r.note,
    '',
  ];
}

function alertStormSection(r: AlertStormResult): string[] {
  const f = r.fleet;
  return [
    '## 6. The SNS bill per subscriber in a storm (docs/alerting.md)',
    '',
    `Fleet: ${grouped(f.sensors)} sensors at ${f.hz} Hz on ${f.partitions} partitions. Email $${r.prices.emailUsd * 100_000} per 100,000; SMS: ${r.prices.smsNote}.`,
    '',
    '| case | digest period | measured: readings · batches · anomalies (stale) | measured: email · SMS critical (resolved) · SMS all | fleet: email | fleet: SMS critical (resolved) · SMS all | fleet $: email · SMS critical |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map(
      (row) =>
        `| ${row.case} | ${row.digestPeriodSeconds === 0 ? 'per batch' : `${row.digestPeriodSeconds} s`} | ` +
        `${grouped(row.readings)} · ${grouped(row.batches)} · ${grouped(row.anomalies)} (${grouped(row.stale)}) | ` +
        `${grouped(row.measured.email)} · ${grouped(row.measured.smsCritical)} (${grouped(row.measured.smsResolved)}) · ${grouped(row.measured.smsAll)} | ` +
        `**${grouped(row.fleet.email)}** / ${row.fleetPer} | ${grouped(row.fleet.smsCritical)} (${grouped(row.fleet.smsResolved)}) · ${grouped(row.fleet.smsAll)} / ${row.fleetPer} | ` +
        `${dollars(row.fleetUsd.email)} · ${dollars(row.fleetUsd.smsCritical)} |`,
    ),
    '',
    r.note,
    '',
  ];
}

/** Dollars, grouped from $1,000 (a storm's SMS bill runs to six figures). */
function dollars(value: number): string {
  return value >= 1000 ? `$${grouped(Math.round(value))}` : usd(value);
}
