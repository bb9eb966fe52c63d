import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRoot, encodeRoot } from '../../functions/adapters/dynamodb/codecs.ts';
import { digestMessage } from '../../functions/adapters/sns-alert-publisher.ts';
import type { PartitionRoot } from '../../functions/batch/state.ts';
import { ConfigError, parseRulesFile } from '../../functions/config.ts';
import {
  compileGroups,
  decideGroups,
  type GroupPeriod,
  type GroupRule,
  groupId,
  MAX_GROUP_ALERTS_PER_COMMIT,
  MAX_GROUP_PERIODS,
  shown,
} from '../../functions/core/alerting/groups.ts';
import {
  compileMaintenance,
  type MaintenanceWindow,
} from '../../functions/core/alerting/maintenance.ts';
import { groupSilence, muteSilence } from '../../functions/core/alerting/silence-groups.ts';
import { CoreConfigError } from '../../functions/core/errors.ts';
import type { SilenceAlert, SilentEntry } from '../../functions/core/silence.ts';
import type { AlertDecision, GroupSummary } from '../../functions/core/types.ts';
import { lawParameters, lawRuns } from '../helpers/fc-params.ts';

const T0 = Date.parse('2026-12-07T00:00:00Z'); // a Monday

describe('maintenance windows', () => {
  const cases: Array<{
    name: string;
    window: MaintenanceWindow;
    sensor: string;
    group?: string;
    at: string;
    muted: boolean;
  }> = [
    {
      name: 'one-off, inside',
      window: { match: 'pump_*', start: '2026-12-07T06:00:00Z', end: '2026-12-07T08:00:00Z' },
      sensor: 'pump_1',
      at: '2026-12-07T06:00:00Z',
      muted: true,
    },
    {
      name: 'one-off, the end excluded',
      window: { match: 'pump_*', start: '2026-12-07T06:00:00Z', end: '2026-12-07T08:00:00Z' },
      sensor: 'pump_1',
      at: '2026-12-07T08:00:00Z',
      muted: false,
    },
    {
      name: 'one-off, with an offset',
      window: {
        match: 'pump_1',
        start: '2026-12-07T07:00:00+01:00',
        end: '2026-12-07T09:00:00+01:00',
      },
      sensor: 'pump_1',
      at: '2026-12-07T06:30:00Z',
      muted: true,
    },
    {
      name: 'another sensor',
      window: { match: 'pump_*', start: '2026-12-07T06:00:00Z', end: '2026-12-07T08:00:00Z' },
      sensor: 'fan_1',
      at: '2026-12-07T07:00:00Z',
      muted: false,
    },
    {
      name: 'by group',
      window: { group: 'site-a/*', start: '2026-12-07T06:00:00Z', end: '2026-12-07T08:00:00Z' },
      sensor: 'site-a/line-1/p1',
      group: 'site-a/line-1',
      at: '2026-12-07T07:00:00Z',
      muted: true,
    },
    {
      name: 'by group, a sensor without one',
      window: { group: '*', start: '2026-12-07T06:00:00Z', end: '2026-12-07T08:00:00Z' },
      sensor: 'lonely',
      at: '2026-12-07T07:00:00Z',
      muted: false,
    },
    {
      name: 'weekly, in UTC',
      window: { match: '*', weekly: { days: ['mon'], from: '02:00', to: '04:00' } },
      sensor: 's',
      at: '2026-12-07T03:59:00Z',
      muted: true,
    },
    {
      name: 'weekly, another day',
      window: { match: '*', weekly: { days: ['tue'], from: '02:00', to: '04:00' } },
      sensor: 's',
      at: '2026-12-07T03:00:00Z',
      muted: false,
    },
    {
      name: 'weekly past midnight: the next morning',
      window: { match: '*', weekly: { days: ['sun'], from: '22:00', to: '02:00' } },
      sensor: 's',
      at: '2026-12-07T01:00:00Z',
      muted: true,
    },
    {
      name: 'weekly past midnight: not the morning before',
      window: { match: '*', weekly: { days: ['sun'], from: '22:00', to: '02:00' } },
      sensor: 's',
      at: '2026-12-06T01:00:00Z',
      muted: false,
    },
    {
      name: 'weekly in a time zone (Paris, winter: UTC+1)',
      window: {
        match: '*',
        weekly: { days: ['mon'], from: '02:00', to: '04:00' },
        timezone: 'Europe/Paris',
      },
      sensor: 's',
      at: '2026-12-07T01:30:00Z',
      muted: true,
    },
    {
      name: 'local wall clock across the spring change (Paris, UTC+2 after 2026-03-29)',
      window: {
        match: '*',
        weekly: { days: ['sun'], from: '04:00', to: '05:00' },
        timezone: 'Europe/Paris',
      },
      sensor: 's',
      at: '2026-03-29T02:30:00Z',
      muted: true,
    },
    {
      name: 'until the end of the day (24:00)',
      window: { match: '*', weekly: { days: ['mon'], from: '23:00', to: '24:00' } },
      sensor: 's',
      at: '2026-12-07T23:59:59Z',
      muted: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const muted = compileMaintenance([c.window]);
      expect(muted(c.sensor, c.group ?? null, Date.parse(c.at))).toBe(c.muted);
    });
  }

  const mistakes: Array<[MaintenanceWindow, RegExp]> = [
    [{ start: '2026-12-07T06:00:00Z', end: '2026-12-07T08:00:00Z' }, /give match .* or group/],
    [{ match: '*' }, /either start and end, or weekly/],
    [{ match: '*', start: '2026-12-07T06:00:00', end: '2026-12-07T08:00:00Z' }, /with an offset/],
    [
      { match: '*', start: '2026-12-07T08:00:00Z', end: '2026-12-07T08:00:00Z' },
      /end must be after start/,
    ],
    [
      { match: '*', weekly: { days: ['mon'], from: '02:00', to: '04:00' }, timezone: 'Mars/Base' },
      /unknown timezone "Mars\/Base"/,
    ],
    [
      { match: '*', weekly: { days: ['mon'], from: '2:00', to: '04:00' } },
      /weekly.from must be HH:MM/,
    ],
    [{ match: '*', weekly: { days: ['mon'], from: '04:00', to: '04:00' } }, /are equal/],
    [
      {
        match: '*',
        start: '2026-12-07T06:00:00Z',
        end: '2026-12-07T08:00:00Z',
        timezone: 'UTC',
      },
      /timezone applies to weekly/,
    ],
  ];
  for (const [window, message] of mistakes) {
    it(`rejects ${JSON.stringify(window)} with one line`, () => {
      expect(() => compileMaintenance([{ name: 'w', ...window }])).toThrow(CoreConfigError);
      expect(() => compileMaintenance([{ name: 'w', ...window }])).toThrow(message);
      expect(() => compileMaintenance([{ name: 'w', ...window }])).toThrow(
        /^maintenance 0 \(w\): /,
      );
    });
  }
});

describe('group of a sensor', () => {
  const rules: GroupRule[] = [
    { match: 'boiler_*', name: 'boilers', threshold: 3 },
    { match: '*', depth: 2, threshold: 5 },
    { match: 'plant.*', depth: 1, separator: '.', threshold: 2 },
  ];
  const groupOf = compileGroups(rules);
  const cases: Array<[string, string | null]> = [
    ['boiler_7', 'boilers'],
    ['site-a/line-1/pump-3/temp', 'site-a/line-1'],
    ['site-a/line-1/pump-3', 'site-a/line-1'],
    // The group itself, or above it: no group (the next rule is tried: none matches here).
    ['site-a/line-1', null],
    ['site-a', null],
    // The first rule in file order that gives a group wins: the hierarchy rule gives none here.
    ['plant.hall.s1', 'plant'],
    ['plant/x/y', 'plant/x'],
  ];
  for (const [id, key] of cases) {
    it(`${id} → ${key}`, () => expect(groupOf(id)?.key ?? null).toBe(key));
  }
  it('gives the rule threshold and period (default 300 s)', () => {
    expect(groupOf('boiler_1')).toEqual({ key: 'boilers', threshold: 3, periodMs: 300_000 });
  });
  it('rejects a rule with both depth and name, or neither', () => {
    expect(() => compileGroups([{ match: '*', depth: 1, name: 'x', threshold: 1 }])).toThrow(
      /groups 0 \(\*\): give either depth/,
    );
    expect(() => compileGroups([{ match: '*', threshold: 1 }])).toThrow(/give either depth/);
  });
});

function alert(sensorId: string, t: number, notify = true, severity = 'warning'): AlertDecision {
  return {
    anomaly: {
      alertId: `a-${sensorId}-${t}`,
      sensorId,
      value: 99,
      mean: 10,
      count: 5,
      deviation: 89,
      limit: 50,
      detector: 'threshold',
      eventTimeMs: t,
      severity: severity as 'warning' | 'critical',
      source: { topic: 't', partition: 0, offset: t },
    },
    notify,
    heldBackBefore: 0,
  };
}

describe('group alerts of a commit', () => {
  const groupOf = compileGroups([{ match: '*', depth: 2, threshold: 3, periodSeconds: 60 }]);
  const line = (n: number, t = T0) =>
    Array.from({ length: n }, (_, i) => alert(`site/line/p${i}`, t + i));

  it('passes the threshold or not', () => {
    const table: Array<[number, number, number]> = [
      // sensors, notifications sent, group alerts
      [1, 1, 0],
      [3, 3, 0],
      [4, 1, 1],
      [200, 1, 1],
    ];
    for (const [n, sent, groups] of table) {
      const d = decideGroups(line(n), groupOf, []);
      expect(d.alerts.filter((a) => a.notify).length, `${n} sensors`).toBe(sent);
      expect(d.groupAlerts).toBe(groups);
      expect(d.grouped).toBe(groups === 0 ? 0 : n);
    }
  });

  it('names the group, its sensors and the most severe', () => {
    const alerts = [...line(5), alert('site/line/p9', T0 + 9, true, 'critical')];
    const d = decideGroups(alerts, groupOf, []);
    const carrier = d.alerts.find((a) => a.group !== undefined);
    expect(carrier?.anomaly.sensorId).toBe('site/line/p0');
    expect(carrier?.group).toEqual({
      key: 'site/line',
      threshold: 3,
      periodSeconds: 60,
      sensors: 6,
      alerts: 6,
      inPeriod: 6,
      severity: 'critical',
      listed: ['site/line/p0', 'site/line/p1', 'site/line/p2', 'site/line/p3', 'site/line/p4'],
    });
    // Every alert is kept (the log and the sinks get them), in order.
    expect(d.alerts.map((a) => a.anomaly.alertId)).toEqual(alerts.map((a) => a.anomaly.alertId));
  });

  it('counts a period across commits, and alerts once per period', () => {
    const first = decideGroups(line(2), groupOf, []);
    expect(first.alerts.every((a) => a.notify)).toBe(true);
    // Two more in a later commit: 4 in the period, past 3: these two fold into a group alert.
    const second = decideGroups(
      [alert('site/line/q1', T0 + 10_000), alert('site/line/q2', T0 + 11_000)],
      groupOf,
      first.periods,
    );
    expect(second.groupAlerts).toBe(1);
    expect(second.alerts.filter((a) => a.notify).length).toBe(1);
    expect(second.alerts[0]?.group?.inPeriod).toBe(4);
    // Later in the period: folded without another group alert.
    const third = decideGroups([alert('site/line/q3', T0 + 30_000)], groupOf, second.periods);
    expect(third.alerts[0]?.notify).toBe(false);
    expect(third.groupAlerts).toBe(0);
    expect(third.grouped).toBe(1);
    // After the period: one by one again.
    const fourth = decideGroups([alert('site/line/q4', T0 + 61_000)], groupOf, third.periods);
    expect(fourth.alerts[0]?.notify).toBe(true);
  });

  it('leaves held-back alerts, other groups and ungrouped sensors alone', () => {
    const alerts = [
      ...line(2),
      alert('site/line/p5', T0, false),
      alert('other/line/x', T0),
      alert('lonely', T0),
    ];
    const d = decideGroups(alerts, groupOf, []);
    expect(d.alerts).toEqual(alerts);
  });

  it('counts a sensor once per commit', () => {
    const alerts = [0, 1, 2, 3].map((i) => alert('site/line/p0', T0 + i * 1000));
    expect(decideGroups(alerts, groupOf, []).groupAlerts).toBe(0);
  });

  it(`keeps at most ${MAX_GROUP_PERIODS} periods and ${MAX_GROUP_ALERTS_PER_COMMIT} group alerts a commit`, () => {
    const alerts = Array.from({ length: 100 }, (_, g) =>
      [0, 1, 2, 3].map((i) => alert(`site${g}/line/p${i}`, T0 + g)),
    ).flat();
    const d = decideGroups(alerts, groupOf, []);
    expect(d.groupAlerts).toBe(MAX_GROUP_ALERTS_PER_COMMIT);
    expect(d.alerts.filter((a) => a.notify).length).toBe(
      MAX_GROUP_ALERTS_PER_COMMIT + (100 - MAX_GROUP_ALERTS_PER_COMMIT) * 4,
    );
    expect(d.periods.length).toBe(MAX_GROUP_PERIODS);
  });

  it('forgets periods that are over', () => {
    const periods: GroupPeriod[] = [{ id: 'x', endMs: T0, count: 9, alerted: true }];
    const d = decideGroups([alert('site/line/p0', T0 + 1)], groupOf, periods);
    expect(d.periods.map((p) => p.id)).not.toContain('x');
  });
});

function silent(sensorId: string, lastSeenMs: number, kind = 'silent'): SilenceAlert {
  return {
    alertId: `${kind}~${sensorId}~${lastSeenMs / 1000}`,
    kind: kind as 'silent' | 'recovered',
    sensorId,
    lastSeenMs,
    silenceSeconds: 60,
    decidedAtMs: lastSeenMs + 120_000,
    severity: kind === 'silent' ? 'critical' : 'warning',
  };
}

describe('silence alerts by group', () => {
  const groupOf = compileGroups([{ match: '*', depth: 1, threshold: 10 }]);
  const entry: SilentEntry = { lastSeenMs: T0, silenceSeconds: 60, declaredAtMs: T0 };
  const state = (ids: string[]) => new Map(ids.map((id) => [id, entry]));

  it('one group alert when the whole group went silent', () => {
    const alerts = ['a/1', 'a/2', 'a/3'].map((id) => silent(id, T0));
    const d = groupSilence(alerts, ['a/1', 'a/2', 'a/3'], state(['a/1', 'a/2', 'a/3']), groupOf);
    expect(d.inhibited).toBe(3);
    expect(d.alerts.filter((a) => a.inhibited !== true)).toEqual([
      expect.objectContaining({
        alertId: `silent~group~a~${T0 / 1000}`,
        kind: 'silent',
        sensorId: 'a',
        severity: 'critical',
        group: { sensors: 3, members: 3, listed: ['a/1', 'a/2', 'a/3'] },
      }),
    ]);
  });

  it('per sensor while part of the group still reports', () => {
    const alerts = ['a/1', 'a/2'].map((id) => silent(id, T0));
    const d = groupSilence(alerts, ['a/1', 'a/2', 'a/3'], state(['a/1', 'a/2']), groupOf);
    expect(d.alerts).toEqual(alerts);
    expect(d.inhibited).toBe(0);
  });

  it('the last ones of a group silent over several checks make the group alert', () => {
    const alerts = ['a/2', 'a/3'].map((id) => silent(id, T0));
    const d = groupSilence(alerts, ['a/1', 'a/2', 'a/3'], state(['a/1', 'a/2', 'a/3']), groupOf);
    expect(d.alerts.at(-1)?.group).toEqual({ sensors: 2, members: 3, listed: ['a/2', 'a/3'] });
  });

  it('one group recovered when the group reports again', () => {
    const alerts = ['a/1', 'a/2'].map((id) => silent(id, T0, 'recovered'));
    const d = groupSilence(alerts, ['a/1', 'a/2'], state([]), groupOf);
    expect(d.alerts.filter((a) => a.inhibited !== true).map((a) => a.alertId)).toEqual([
      `recovered~group~a~${T0 / 1000}`,
    ]);
  });

  it('a single sensor is never a group alert', () => {
    const alerts = [silent('a/1', T0)];
    expect(groupSilence(alerts, ['a/1'], state(['a/1']), groupOf).alerts).toEqual(alerts);
  });
});

describe('silence alerts under maintenance', () => {
  // A window from T0 + 1 h to T0 + 2 h on sensor m.
  const muted = (id: string, at: number) =>
    id === 'm' && at >= T0 + 3_600_000 && at < T0 + 7_200_000;
  const at = (a: SilenceAlert, decidedAtMs: number): SilenceAlert => ({ ...a, decidedAtMs });
  const table: Array<[string, SilenceAlert, number | undefined, boolean]> = [
    ['silent inside the window', at(silent('m', T0), T0 + 4_000_000), undefined, true],
    ['silent after the window', at(silent('m', T0), T0 + 8_000_000), undefined, false],
    ['another sensor', at(silent('x', T0), T0 + 4_000_000), undefined, false],
    ['recovered inside the window', at(silent('m', T0, 'recovered'), T0 + 4_000_000), T0, true],
    [
      'recovered after a silence declared inside',
      at(silent('m', T0, 'recovered'), T0 + 9_000_000),
      T0 + 4_000_000,
      true,
    ],
    [
      'recovered after a silence declared before',
      at(silent('m', T0, 'recovered'), T0 + 9_000_000),
      T0 + 60_000,
      false,
    ],
  ];
  for (const [name, a, declared, inhibited] of table) {
    it(name, () => {
      const d = muteSilence([a], muted, () => declared);
      expect(d.alerts[0]?.inhibited === true).toBe(inhibited);
      expect(d.muted).toBe(inhibited ? 1 : 0);
    });
  }

  it('a muted sensor is left out of its group alert', () => {
    const groupOf = compileGroups([{ match: '*', depth: 1, threshold: 10 }]);
    const alerts = [{ ...silent('a/1', T0), inhibited: true as const }, silent('a/2', T0)];
    const entry: SilentEntry = { lastSeenMs: T0, silenceSeconds: 60, declaredAtMs: T0 };
    const d = groupSilence(
      alerts,
      ['a/1', 'a/2'],
      new Map([
        ['a/1', entry],
        ['a/2', entry],
      ]),
      groupOf,
    );
    expect(d.alerts).toEqual(alerts);
  });
});

describe('the rules file', () => {
  it('reads groups and maintenance', () => {
    const file = parseRulesFile(
      JSON.stringify({
        rules: [],
        groups: [{ match: 'site-*', depth: 2, threshold: 5, periodSeconds: 120 }],
        maintenance: [
          {
            name: 'overhaul',
            group: 'site-a/line-1',
            start: '2026-12-08T06:00:00Z',
            end: '2026-12-08T14:00:00Z',
          },
          {
            match: 'site-a/*/ph*',
            weekly: { days: ['sun'], from: '02:00', to: '04:00' },
            timezone: 'Europe/Paris',
          },
        ],
      }),
      'rules.json',
    );
    expect(file.alerting?.groups).toEqual([
      { match: 'site-*', depth: 2, threshold: 5, periodSeconds: 120 },
    ]);
    expect(file.alerting?.maintenance).toHaveLength(2);
  });

  const mistakes: Array<[unknown, RegExp]> = [
    [{ groups: [{ depth: 2 }] }, /^rules\.json: groups\.0\.threshold: /],
    [{ groups: [{ depth: 2, threshold: 0 }] }, /groups\.0\.threshold/],
    [{ groups: [{ threshold: 2 }] }, /^rules\.json: groups 0 \(\*\): give either depth/],
    [
      { maintenance: [{ match: '*', weekly: { days: ['monday'], from: '02:00', to: '03:00' } }] },
      /maintenance\.0\.weekly\.days\.0/,
    ],
    [
      { maintenance: [{ match: '*', start: 'tomorrow', end: '2026-12-08T06:00:00Z' }] },
      /^rules\.json: maintenance 0: start must be an ISO 8601 instant/,
    ],
    [
      {
        maintenance: [
          { match: '*', start: '2026-12-08T06:00:00Z', end: '2026-12-08T07:00:00Z', every: 'day' },
        ],
      },
      /Unrecognized key/,
    ],
  ];
  for (const [doc, message] of mistakes) {
    it(`rejects ${JSON.stringify(doc)}`, () => {
      const text = JSON.stringify({ rules: [], ...(doc as object) });
      expect(() => parseRulesFile(text, 'rules.json')).toThrow(ConfigError);
      expect(() => parseRulesFile(text, 'rules.json')).toThrow(message);
    });
  }
});

describe('the root keeps group alerts and periods', () => {
  it('round-trips a carrier (with and without an explanation), its periods, and a root without groups', () => {
    const groupOf = compileGroups([{ match: '*', depth: 1, threshold: 1 }]);
    const d = decideGroups([alert('a/1', T0), alert('a/2', T0 + 1)], groupOf, []);
    const explained: AlertDecision = {
      ...(d.alerts[0] as AlertDecision),
      anomaly: { ...(d.alerts[0] as AlertDecision).anomaly, test: 'spike', score: 0.99 },
    };
    const root: PartitionRoot = {
      version: 3,
      commitId: 'abc',
      epoch: 0,
      decidedThroughOffset: 9,
      maxTimestampMs: T0,
      gaps: [],
      sources: {},
      pages: { sensors: 0, dict: [], state: [], buckets: [], bucketIndex: [] },
      outbox: [...d.alerts, explained],
      groups: d.periods,
    };
    expect(d.periods).toHaveLength(1);
    expect(decodeRoot(3, 'abc', encodeRoot(root))).toEqual(root);
    const { groups: _, ...plain } = root;
    const encoded = encodeRoot({ ...plain, outbox: [] });
    expect(JSON.parse(encoded.header)).toHaveLength(5);
    expect(decodeRoot(3, 'abc', encoded)).toEqual({ ...plain, outbox: [] });
  });

  it('shows names in printable ASCII, cut short', () => {
    expect(shown('ligne-é\u0000', 48)).toBe('ligne-??');
    expect(shown('x'.repeat(60), 48)).toBe(`${'x'.repeat(45)}...`);
  });
});

describe('group alerts (law)', () => {
  const ruleArb = fc.record({
    threshold: fc.integer({ min: 1, max: 6 }),
    periodSeconds: fc.integer({ min: 1, max: 600 }),
  });
  const alertArb = fc.record({
    site: fc.integer({ min: 0, max: 3 }),
    sensor: fc.integer({ min: 0, max: 12 }),
    dt: fc.integer({ min: 0, max: 120_000 }),
    notify: fc.boolean(),
    critical: fc.boolean(),
  });
  const commitsArb = fc.array(fc.array(alertArb, { maxLength: 40 }), {
    minLength: 1,
    maxLength: 6,
  });

  it(`never loses an alert, never notifies more, one group alert per group and period (${lawRuns(200)} runs)`, () => {
    fc.assert(
      fc.property(ruleArb, commitsArb, (rule, commits) => {
        const groupOf = compileGroups([{ match: '*', depth: 1, ...rule }]);
        let periods: GroupPeriod[] = [];
        let t = T0;
        const alertedPeriods = new Map<string, number>();
        for (const commit of commits) {
          const alerts = commit.map((a) => {
            t += a.dt;
            return alert(
              `s${a.site}/p${a.sensor}`,
              t,
              a.notify,
              a.critical ? 'critical' : 'warning',
            );
          });
          const d = decideGroups(alerts, groupOf, periods);
          // Every alert kept, in order, the same anomaly; a notification may only be folded.
          expect(d.alerts.map((a) => a.anomaly)).toEqual(alerts.map((a) => a.anomaly));
          d.alerts.forEach((a, i) => {
            const before = alerts[i] as AlertDecision;
            if (!before.notify) expect(a).toEqual(before);
            if (a.group !== undefined) expect(a.notify).toBe(true);
          });
          // A group alert stands for more than the threshold in its period, once per period.
          for (const a of d.alerts.filter((x) => x.group !== undefined)) {
            const g = a.group as GroupSummary;
            expect(g.inPeriod).toBeGreaterThan(rule.threshold);
            expect(g.sensors).toBeLessThanOrEqual(g.alerts);
            // The carrier is its period's first notification in this commit: the period is
            // the one carried in, or the one it opened.
            const prior = periods.find((p) => p.id === groupId(g.key));
            const t0 = a.anomaly.eventTimeMs;
            const end =
              prior !== undefined && t0 < prior.endMs
                ? prior.endMs
                : t0 + rule.periodSeconds * 1000;
            const key = `${g.key}@${end}`;
            expect(alertedPeriods.has(key)).toBe(false);
            alertedPeriods.set(key, 1);
          }
          const folded = d.alerts.filter(
            (a, i) => !a.notify && (alerts[i] as AlertDecision).notify,
          );
          expect(folded.length).toBe(d.grouped - d.groupAlerts);
          expect(d.periods.length).toBeLessThanOrEqual(MAX_GROUP_PERIODS);
          periods = d.periods;
        }
      }),
      lawParameters(200),
    );
  });

  it('a whole backlog of a group in one batch is one notification', () => {
    fc.assert(
      fc.property(ruleArb, fc.integer({ min: 1, max: 300 }), (rule, n) => {
        const groupOf = compileGroups([{ match: '*', depth: 1, ...rule }]);
        const alerts = Array.from({ length: n }, (_, i) => alert(`site/p${i}`, T0 + i));
        const sent = decideGroups(alerts, groupOf, []).alerts.filter((a) => a.notify).length;
        // Within one period, more than the threshold: one; else every one.
        if (n - 1 < rule.periodSeconds * 1000 && n > rule.threshold) expect(sent).toBe(1);
        if (n <= rule.threshold) expect(sent).toBe(n);
      }),
      lawParameters(200),
    );
  });
});

describe('the group alert in messages', () => {
  it('email digests list the group, not its first sensor', () => {
    const groupOf = compileGroups([{ match: '*', depth: 1, threshold: 2 }]);
    const d = decideGroups(
      ['a/1', 'a/2', 'a/3'].map((id, i) => alert(id, T0 + i)),
      groupOf,
      [],
    );
    const carrier = d.alerts.filter((a) => a.notify);
    const digest = digestMessage(carrier);
    expect(digest.subject).toBe('[warning] 3 sensors alerting in a');
    const body = JSON.parse(digest.message).email as string;
    expect(body).toContain('GROUP a: 3 sensors alerting (more than 2 within 300 s): a/1, a/2, a/3');
    expect(body).not.toContain('a/1: value');
  });
});
