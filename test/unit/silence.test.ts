import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemorySilenceStore } from '../../functions/adapters/memory-silence-store.ts';
import { ConfigError, parseRulesFile } from '../../functions/config.ts';
import {
  compileSilence,
  decideSilence,
  type SilenceAlert,
  seenGranularityMs,
  silenceLimits,
  silenceLine,
} from '../../functions/core/silence.ts';
import { checkSilence, topicOfPartition } from '../../functions/silence/check-silence.ts';
import { LastSeenRecorder } from '../../functions/silence/last-seen-recorder.ts';
import { allEntries } from '../../functions/silence/pages.ts';
import { lawParameters } from '../helpers/fc-params.ts';

const THRESHOLD = { kind: 'threshold', threshold: 50 } as const;

describe('silenceSeconds in the rules file', () => {
  it('is read per rule and as the file default, and resolves by the most specific rule', () => {
    // Prepare
    const file = parseRulesFile(
      JSON.stringify({
        silenceSeconds: 300,
        rules: [
          { match: 'boiler_*', detector: { kind: 'threshold' }, silenceSeconds: 30 },
          { match: 'boiler_7', detector: { kind: 'threshold', threshold: 9 } },
          { match: 'quiet_*', detector: { kind: 'threshold' }, silenceSeconds: 3600 },
        ],
      }),
      'test',
    );
    // Act
    const silenceOf = compileSilence(THRESHOLD, file.rules, file.silenceSeconds);
    // Assess
    expect(file.silenceSeconds).toBe(300);
    expect(silenceOf('boiler_1')).toBe(30);
    // boiler_7's own rule sets none: the file's default applies.
    expect(silenceOf('boiler_7')).toBe(300);
    expect(silenceOf('quiet_1')).toBe(3600);
    expect(silenceOf('pump_1')).toBe(300);
    expect(silenceLimits(file.rules, file.silenceSeconds).sort((a, b) => a - b)).toEqual([
      30, 300, 3600,
    ]);
  });

  it('is off when no rule sets it', () => {
    const file = parseRulesFile('[{"match":"a*","detector":{"kind":"threshold"}}]', 'test');
    expect(compileSilence(THRESHOLD, file.rules, file.silenceSeconds)('a1')).toBeUndefined();
    expect(silenceLimits(file.rules, file.silenceSeconds)).toEqual([]);
    expect(seenGranularityMs([])).toBe(Number.POSITIVE_INFINITY);
  });

  it.each([0, -5, 1.5, '30'])('rejects silenceSeconds %j with its path', (bad) => {
    const json = JSON.stringify([
      { match: 'a', detector: { kind: 'threshold' }, silenceSeconds: bad },
    ]);
    expect(() => parseRulesFile(json, 'rules.json')).toThrow(ConfigError);
    expect(() => parseRulesFile(json, 'rules.json')).toThrow(/0\.silenceSeconds/);
  });

  it('resolves by topic with the detector rules’ specificity', () => {
    // Prepare
    const file = parseRulesFile(
      JSON.stringify({
        silenceSeconds: 600,
        rules: [
          { match: 'sensor_*', detector: { kind: 'threshold' }, silenceSeconds: 60 },
          {
            match: 'sensor_*',
            topic: 'plant-a',
            detector: { kind: 'threshold' },
            silenceSeconds: 30,
          },
          {
            match: 'sensor_*',
            topic: 'plant-*',
            detector: { kind: 'threshold' },
            silenceSeconds: 45,
          },
          { match: 'sensor_7', detector: { kind: 'threshold' } },
          {
            match: 'sensor_8',
            topic: 'plant-a',
            detector: { kind: 'threshold' },
            silenceSeconds: 5,
          },
        ],
      }),
      'test',
    );
    // Act
    const silenceOf = compileSilence(THRESHOLD, file.rules, file.silenceSeconds);
    // Assess: an exact topic beats a topic glob, which beats no topic, for the same id pattern.
    expect(silenceOf('sensor_1', 'plant-a')).toBe(30);
    expect(silenceOf('sensor_1', 'plant-b')).toBe(45);
    expect(silenceOf('sensor_1', 'other')).toBe(60);
    // No topic (a backtest file, a bare reading): only rules without `topic`.
    expect(silenceOf('sensor_1')).toBe(60);
    expect(silenceOf('sensor_1', '')).toBe(60);
    // An exact id beats any glob on every topic; its rule sets none: the file's default.
    expect(silenceOf('sensor_7', 'plant-a')).toBe(600);
    // Exact id and exact topic: that rule, on that topic only.
    expect(silenceOf('sensor_8', 'plant-a')).toBe(5);
    expect(silenceOf('sensor_8', 'plant-b')).toBe(45);
  });

  it('reads the topic back from a partition id', () => {
    expect(topicOfPartition('sensor-data#3')).toBe('sensor-data');
    expect(topicOfPartition('Ab3_-xYz09#plant.a_1#12')).toBe('plant.a_1');
  });

  it('records at a tenth of the smallest limit, at least 1 s', () => {
    expect(seenGranularityMs([300, 30])).toBe(3000);
    expect(seenGranularityMs([5])).toBe(1000);
  });
});

describe('decideSilence', () => {
  const silenceOf = (id: string) => (id.startsWith('watched') ? 30 : undefined);

  it('declares a watched sensor silent once its limit and the slack have passed, not before', () => {
    const seen = new Map([['watched_1', 100_000]]);
    const early = decideSilence(seen, silenceOf, new Map(), 100_000 + 32_999, 3000);
    expect(early.alerts).toEqual([]);
    const due = decideSilence(seen, silenceOf, new Map(), 100_000 + 33_000, 3000);
    expect(due.alerts).toEqual([
      expect.objectContaining({
        kind: 'silent',
        sensorId: 'watched_1',
        alertId: 'silent~watched_1~100',
        severity: 'critical',
        silenceSeconds: 30,
      }),
    ]);
    // Checked again while still silent: nothing new.
    expect(decideSilence(seen, silenceOf, due.state, 200_000, 3000).alerts).toEqual([]);
    expect(silenceLine(due.alerts[0] as SilenceAlert)).toMatch(
      /^SILENT watched_1: no reading for 33 s \(limit 30 s\), last seen 1970-01-01T00:01:40\.000Z$/,
    );
  });

  it('tells recovered once the sensor is heard from again, with the episode in its id', () => {
    const silent = decideSilence(
      new Map([['watched_1', 100_000]]),
      silenceOf,
      new Map(),
      140_000,
      0,
    );
    const back = decideSilence(
      new Map([['watched_1', 150_000]]),
      silenceOf,
      silent.state,
      151_000,
      0,
    );
    expect(back.alerts).toEqual([
      expect.objectContaining({
        kind: 'recovered',
        alertId: 'recovered~watched_1~100',
        seenAgainMs: 150_000,
        severity: 'warning',
      }),
    ]);
    expect(back.state.size).toBe(0);
  });

  it('drops a silent sensor whose limit was removed, without an alert, and never re-alerts it', () => {
    const seen = new Map([['watched_1', 100_000]]);
    const silent = decideSilence(seen, silenceOf, new Map(), 200_000, 3000);
    expect(silent.state.has('watched_1')).toBe(true);
    const unwatched = () => undefined;
    const removed = decideSilence(seen, unwatched, silent.state, 300_000, 3000);
    expect(removed.alerts).toEqual([]);
    expect(removed.state.size).toBe(0);
    // It reports again: no recovered either.
    const back = decideSilence(
      new Map([['watched_1', 310_000]]),
      unwatched,
      removed.state,
      320_000,
      3000,
    );
    expect(back.alerts).toEqual([]);
  });

  it('never alerts for a sensor without a limit or never heard from', () => {
    const seen = new Map([['other_1', 0]]);
    expect(decideSilence(seen, silenceOf, new Map(), 1e9, 0).alerts).toEqual([]);
    expect(decideSilence(new Map(), silenceOf, new Map(), 1e9, 0).alerts).toEqual([]);
  });
});

/**
 * One sensor's timeline in seconds: spells of reporting (every `every` seconds for `on`
 * seconds) between quiet gaps, and the check times.
 */
const timelineArb = fc.record({
  limitSeconds: fc.integer({ min: 2, max: 40 }),
  reports: fc
    .array(
      fc.record({
        gap: fc.integer({ min: 0, max: 90 }),
        on: fc.integer({ min: 0, max: 40 }),
        every: fc.integer({ min: 1, max: 5 }),
      }),
      { minLength: 1, maxLength: 8 },
    )
    .map((spells) => {
      const times: number[] = [];
      let t = 0;
      for (const s of spells) {
        t += s.gap;
        for (let x = t; x <= t + s.on; x += s.every) times.push(x);
        t += s.on + 1;
      }
      return times;
    }),
  checks: fc.uniqueArray(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 150 }),
  /** A check at the same second as a report runs before it (else after). */
  checkFirst: fc.boolean(),
});

describe('silence law (LastSeenRecorder + checkSilence on the in-memory store)', () => {
  it('law: one silent then one recovered per silence episode, never early, never for a sensor never heard from, whatever the check times', async () => {
    await fc.assert(
      fc.asyncProperty(timelineArb, async ({ limitSeconds, reports, checks, checkFirst }) => {
        // Prepare: "s" reports on a timeline, "never" is watched but never reports, "free"
        // reports but has no limit.
        const limits = [limitSeconds];
        const silenceOf = (id: string) => (id === 'free' ? undefined : limitSeconds);
        const granularityMs = seenGranularityMs(limits);
        const store = new MemorySilenceStore();
        const recorder = new LastSeenRecorder({ store, silenceOf, granularityMs });
        const told: { atS: number; alert: SilenceAlert }[] = [];
        let nowS = 0;
        const sent: SilenceAlert[] = [];
        const events = [
          ...reports.map((t) => ({ t, kind: 'report' as const })),
          ...checks.map((t) => ({ t, kind: 'check' as const })),
        ].sort(
          (a, b) =>
            a.t - b.t || (a.kind === b.kind ? 0 : (a.kind === 'check') === checkFirst ? -1 : 1),
        );
        // Act
        for (const e of events) {
          nowS = e.t;
          if (e.kind === 'report') {
            await recorder.record([{ pid: 'topic#0', sensorIds: ['s', 'free'] }], e.t * 1000);
            continue;
          }
          await checkSilence({
            store,
            publisher: { publishSilence: async (a) => void sent.push(...a) },
            silenceOf,
            slackMs: granularityMs,
            nowMs: () => nowS * 1000,
            onAlert: (alert) => told.push({ atS: nowS, alert }),
          });
        }
        // Assess: replay the checks against the true timeline.
        expect(told.every((x) => x.alert.sensorId === 's')).toBe(true);
        expect(sent.map((a) => a.alertId)).toEqual(told.map((x) => x.alert.alertId));
        let declared = false;
        let reportedSinceDeclared = false;
        for (const e of events) {
          if (e.kind === 'report') {
            if (declared) reportedSinceDeclared = true;
            continue;
          }
          const here = told.filter((x) => x.atS === e.t).map((x) => x.alert);
          expect(here.length).toBeLessThanOrEqual(1);
          const heard = reports.filter((r) => r < e.t || (r === e.t && !checkFirst));
          const last = heard.length === 0 ? undefined : Math.max(...heard);
          const alert = here[0];
          if (alert?.kind === 'silent') {
            expect(declared).toBe(false);
            // Never early: the sensor had really been silent for its limit.
            expect(last).toBeDefined();
            expect(e.t - (last as number)).toBeGreaterThanOrEqual(limitSeconds);
            declared = true;
            reportedSinceDeclared = false;
          } else if (alert?.kind === 'recovered') {
            expect(declared && reportedSinceDeclared).toBe(true);
            declared = false;
          } else if (declared) {
            // Recovered at the first check after the sensor reported again.
            expect(reportedSinceDeclared).toBe(false);
          } else if (last !== undefined) {
            // Declared by the first check past limit + recording granularity (+ 1 s rounding).
            expect(e.t - last).toBeLessThan(limitSeconds + granularityMs / 1000 + 1);
          }
        }
      }),
      lawParameters(300),
    );
  });
});

describe('races with the batches (docs/silence.md, "Races")', () => {
  const MAX_BATCH_S = 20;

  it('law: a batch that has heard a sensor and records it up to its timeout later never makes the check declare it silent early', async () => {
    await fc.assert(
      fc.asyncProperty(
        timelineArb,
        fc.array(fc.integer({ min: 0, max: MAX_BATCH_S }), { minLength: 1, maxLength: 400 }),
        async ({ limitSeconds, reports, checks }, delays) => {
          // Prepare: each report's batch starts at its time (the time recorded) and records
          // `delay` seconds later, after its commit.
          const silenceOf = () => limitSeconds;
          const granularityMs = seenGranularityMs([limitSeconds]);
          const store = new MemorySilenceStore();
          const recorder = new LastSeenRecorder({ store, silenceOf, granularityMs });
          const told: { atS: number; alert: SilenceAlert }[] = [];
          const events = [
            ...reports.map((t, i) => ({
              at: t + (delays[i % delays.length] as number),
              t,
              kind: 'record' as const,
            })),
            ...checks.map((t) => ({ at: t, t, kind: 'check' as const })),
          ].sort((a, b) => a.at - b.at || (a.kind === 'check' ? -1 : 1));
          // Act
          for (const e of events) {
            if (e.kind === 'record') {
              await recorder.record([{ pid: 'topic#0', sensorIds: ['s'] }], e.t * 1000);
              continue;
            }
            await checkSilence({
              store,
              publisher: { publishSilence: async () => {} },
              silenceOf,
              slackMs: granularityMs,
              maxBatchMs: MAX_BATCH_S * 1000,
              nowMs: () => e.at * 1000,
              onAlert: (alert) => told.push({ atS: e.at, alert }),
            });
          }
          // Assess: a silent declaration names a silence that really lasted its limit, counting
          // the reports of batches still in flight at the check: after the last-seen time it
          // names, some quiet gap between reports (or up to the check) is at least the limit.
          // (If the sensor reported meanwhile, `recovered` follows once that batch records.)
          for (const { atS, alert } of told) {
            if (alert.kind !== 'silent') continue;
            const fromS = alert.lastSeenMs / 1000;
            const times = [
              ...reports.filter((r) => r >= fromS - granularityMs / 1000 && r < atS),
              atS,
            ];
            const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
            expect(Math.max(...gaps)).toBeGreaterThanOrEqual(limitSeconds);
          }
        },
      ),
      lawParameters(200),
    );
  });

  it('law: a limit removed and put back any number of times never declares early (a reading while unwatched counts)', async () => {
    await fc.assert(
      fc.asyncProperty(
        timelineArb,
        fc.uniqueArray(fc.integer({ min: 0, max: 700 }), { maxLength: 12 }),
        async ({ limitSeconds, reports, checks, checkFirst }, toggles) => {
          // Prepare: the limit is on at first; each toggle time removes it or puts it back.
          const granularityMs = seenGranularityMs([limitSeconds]);
          const on = { silenceOf: () => limitSeconds, granularityMs };
          const off = { silenceOf: () => undefined, granularityMs: Number.POSITIVE_INFINITY };
          const store = new MemorySilenceStore();
          const recorder = new LastSeenRecorder({ store, ...on });
          const told: { atS: number; alert: SilenceAlert }[] = [];
          const events = [
            ...reports.map((t) => ({ t, kind: 'report' as const })),
            ...checks.map((t) => ({ t, kind: 'check' as const })),
          ].sort(
            (a, b) =>
              a.t - b.t || (a.kind === b.kind ? 0 : (a.kind === 'check') === checkFirst ? -1 : 1),
          );
          const watchedAt = (t: number) => toggles.filter((x) => x <= t).length % 2 === 0;
          // Act
          for (const e of events) {
            const limits = watchedAt(e.t) ? on : off;
            if (e.kind === 'report') {
              await recorder.record([{ pid: 'topic#0', sensorIds: ['s'] }], e.t * 1000, limits);
              continue;
            }
            await checkSilence({
              store,
              publisher: { publishSilence: async () => {} },
              silenceOf: limits.silenceOf,
              slackMs: granularityMs,
              nowMs: () => e.t * 1000,
              onAlert: (alert) => told.push({ atS: e.t, alert }),
            });
          }
          // Assess: every `silent` at a check comes after at least the limit without any
          // reading, watched or not.
          for (const { atS, alert } of told) {
            if (alert.kind !== 'silent') continue;
            const heard = reports.filter((r) => r < atS || (r === atS && !checkFirst));
            expect(heard.length).toBeGreaterThan(0);
            expect(atS - Math.max(...heard)).toBeGreaterThanOrEqual(limitSeconds);
          }
        },
      ),
      lawParameters(300),
    );
  });

  it('without the margin the same race declares a sensor silent whose reading is still in its batch', async () => {
    const store = new MemorySilenceStore();
    const silenceOf = () => 30;
    const recorder = new LastSeenRecorder({ store, silenceOf, granularityMs: 3000 });
    for (let t = 0; t <= 30; t += 10)
      await recorder.record([{ pid: 'p#0', sensorIds: ['s'] }], t * 1000);
    // A batch heard "s" at 35 s and records it at 70 s; the checks run at 64 s, when "s" has
    // been quiet for 29 s only.
    const check = (maxBatchMs: number) =>
      checkSilence({
        store,
        publisher: { publishSilence: async () => {} },
        silenceOf,
        slackMs: 3000,
        maxBatchMs,
        nowMs: () => 64_000,
      });
    expect((await check(20_000)).alerts).toBe(0);
    expect((await check(0)).alerts).toBe(1);
  });

  it('a limit removed and put back does not reuse a stale last-seen time', async () => {
    // Prepare: "s" watched, recorded at 0 s.
    const store = new MemorySilenceStore();
    const watched = { silenceOf: () => 30, granularityMs: 3000 };
    const unwatched = { silenceOf: () => undefined, granularityMs: Number.POSITIVE_INFINITY };
    const recorder = new LastSeenRecorder({ store, ...watched });
    await recorder.record([{ pid: 'p#0', sensorIds: ['s'] }], 0);
    // Act: the limit is removed while "s" keeps reporting (10..100 s), then put back at 100 s;
    // the check reads the new rules before any batch was judged with them.
    for (let t = 10; t <= 100; t += 10)
      await recorder.record([{ pid: 'p#0', sensorIds: ['s'] }], t * 1000, unwatched);
    const report = await checkSilence({
      store,
      publisher: { publishSilence: async () => {} },
      silenceOf: watched.silenceOf,
      slackMs: 3000,
      maxBatchMs: 0,
      nowMs: () => 101_000,
    });
    // Assess: the stale 0 s is gone; "s" is not silent (it is not watched until it reports).
    expect(report).toMatchObject({ alerts: 0, sensors: 0 });
    await recorder.record([{ pid: 'p#0', sensorIds: ['s'] }], 102_000);
    expect(await seenOf(store, 'p#0')).toEqual(new Map([['s', 102_000]]));
  });
});

describe('LastSeenRecorder', () => {
  it('merges with another container’s record after a conflict: the newest time wins', async () => {
    // Prepare: two containers of the same partition (a rebalance)
    const store = new MemorySilenceStore();
    const options = { store, silenceOf: () => 30, granularityMs: 3000 };
    const a = new LastSeenRecorder(options);
    const b = new LastSeenRecorder(options);
    await a.record([{ pid: 'p#0', sensorIds: ['s1', 's2'] }], 10_000);
    await b.record([{ pid: 'p#0', sensorIds: ['s2'] }], 20_000);
    // Act: a's cached record is stale
    await a.record([{ pid: 'p#0', sensorIds: ['s1'] }], 30_000);
    // Assess
    expect(await seenOf(store, 'p#0')).toEqual(
      new Map([
        ['s1', 30_000],
        ['s2', 20_000],
      ]),
    );
    expect(store.partitions?.pids).toEqual(['p#0']);
  });

  it('writes a partition at most once per granularity, and not at all for unwatched sensors', async () => {
    const store = new MemorySilenceStore();
    const recorder = new LastSeenRecorder({
      store,
      silenceOf: (id) => (id === 'watched' ? 30 : undefined),
      granularityMs: 3000,
    });
    await recorder.record([{ pid: 'q#0', sensorIds: ['free'] }], 0);
    const writes = () => store.seen.requests.pageWrites + store.seen.requests.headWrites;
    expect(writes()).toBe(0);
    for (let ms = 0; ms <= 9000; ms += 1000)
      await recorder.record([{ pid: 'q#0', sensorIds: ['watched', 'free'] }], ms);
    // 0, 3000, 6000, 9000: one item each time (a small record is held in its head)
    expect(writes()).toBe(4);
    expect(store.seen.requests.pageWrites).toBe(0);
    expect([...(await seenOf(store, 'q#0')).keys()]).toEqual(['watched']);
  });

  it('records under the limits it is handed per batch, with the partition’s topic', async () => {
    // Prepare: no limit at construction (no rules set one), as with live rules at first.
    const store = new MemorySilenceStore();
    const recorder = new LastSeenRecorder({
      store,
      silenceOf: () => undefined,
      granularityMs: 1000,
    });
    const file = parseRulesFile(
      JSON.stringify([
        { match: 's*', topic: 'plant-a', detector: { kind: 'threshold' }, silenceSeconds: 30 },
      ]),
      'test',
    );
    const live = {
      silenceOf: compileSilence(THRESHOLD, file.rules, undefined),
      granularityMs: seenGranularityMs([30]),
    };
    const batch = [
      { pid: 'plant-a#0', topic: 'plant-a', sensorIds: ['s1'] },
      { pid: 'plant-b#0', topic: 'plant-b', sensorIds: ['s2'] },
    ];
    // Act
    await recorder.record(batch, 0);
    const writesWithout = store.seen.requests.pageWrites + store.seen.requests.headWrites;
    await recorder.record(batch, 1000, live);
    // Assess
    expect(writesWithout).toBe(0);
    expect([...store.seen.heads.keys()]).toEqual(['plant-a#0']);
    expect(store.partitions?.pids).toEqual(['plant-a#0']);
  });
});

async function seenOf(store: MemorySilenceStore, pid: string): Promise<Map<string, number>> {
  const map = (await store.seen.load([pid])).get(pid);
  return map === undefined ? new Map() : allEntries(map);
}
