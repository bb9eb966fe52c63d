import { describe, expect, it } from 'vitest';
import {
  type AlertPolicy,
  clearlyBeyond,
  exceedanceOf,
  INITIAL_NOTIFICATION,
  MAX_EXCEEDANCE,
  type NotificationState,
  routeAnomaly,
} from '../../functions/core/alerting/notification-policy.ts';

const POLICY: AlertPolicy = {
  cooldownMs: 60_000,
  freshnessMs: 300_000,
  escalationFactor: 2,
  maxEscalations: 3,
  credibleAheadMs: 86_400_000,
};
const NOW = 1_000_000_000;
const warning = (t: number, exceedance = 1.2) =>
  ({ eventTimeMs: t, severity: 'warning', exceedance }) as const;
const critical = (t: number, exceedance = 3) =>
  ({ eventTimeMs: t, severity: 'critical', exceedance }) as const;

describe('"clearly beyond" the last notification', () => {
  const last: NotificationState = {
    lastNotifiedEventTimeMs: NOW,
    heldBack: 0,
    lastSeverity: 'warning',
    lastExceedance: 1.5,
  };
  it.each([
    ['a higher severity, even a smaller exceedance', critical(NOW, 1.2), true],
    ['exactly twice the exceedance', warning(NOW, 3), true],
    ['just under twice', warning(NOW, 2.999), false],
    ['the same severity and exceedance', warning(NOW, 1.5), false],
  ])('%s', (_, facts, expected) => {
    expect(clearlyBeyond(last, facts, 2)).toBe(expected);
  });

  it('never against a notification whose severity is unknown (state from before escalation)', () => {
    expect(clearlyBeyond({ lastNotifiedEventTimeMs: NOW, heldBack: 0 }, critical(NOW), 2)).toBe(
      false,
    );
  });

  it('takes a limit of 0 (a hard limit breached) as the largest exceedance', () => {
    expect(exceedanceOf(0, 0)).toBe(MAX_EXCEEDANCE);
    expect(exceedanceOf(120, 50)).toBeCloseTo(2.4);
    expect(exceedanceOf(Number.NaN, 50)).toBe(0);
  });
});

describe('routing an anomaly', () => {
  it('stale: older than the freshness limit, leaving the cooldown as it was', () => {
    const d = routeAnomaly(INITIAL_NOTIFICATION, critical(NOW - 300_001), NOW, POLICY);
    expect(d.route).toBe('stale');
    expect(d.next).toBe(INITIAL_NOTIFICATION);
    expect(routeAnomaly(INITIAL_NOTIFICATION, critical(NOW - 300_000), NOW, POLICY).route).toBe(
      'notify',
    );
  });

  it('escalates at most 3 times between regular notifications, each needing twice the last', () => {
    let state = routeAnomaly(INITIAL_NOTIFICATION, warning(NOW, 1), NOW, POLICY).next;
    const routes: string[] = [];
    for (const [i, x] of [1.5, 2, 4, 8, 16, 32].entries()) {
      const d = routeAnomaly(state, warning(NOW + 1000 * (i + 1), x), NOW, POLICY);
      routes.push(`${d.route}${d.escalated ? '+' : ''}`);
      state = d.next;
    }
    expect(routes).toEqual(['held', 'notify+', 'notify+', 'notify+', 'held', 'held']);
    // The held-back count rides on each notification and is reset by it.
    expect(state.heldBack).toBe(2);
    // After the cooldown (from the last escalation) a regular notification resets the budget.
    const after = routeAnomaly(state, warning(NOW + 4000 + 60_000), NOW, POLICY);
    expect([after.route, after.escalated, after.heldBackBefore]).toEqual(['notify', false, 2]);
    expect(after.next.escalations).toBe(0);
  });

  it('never moves the cooldown back: an older, worse anomaly escalates but keeps the later time', () => {
    const first = routeAnomaly(INITIAL_NOTIFICATION, warning(NOW), NOW, POLICY).next;
    const d = routeAnomaly(first, critical(NOW - 5000), NOW, POLICY);
    expect(d.escalated).toBe(true);
    expect(d.next.lastNotifiedEventTimeMs).toBe(NOW);
  });

  it('does not hold a clock that ran a day ahead against the anomaly', () => {
    const ahead = routeAnomaly(INITIAL_NOTIFICATION, warning(NOW + 2 * 86_400_000), NOW, POLICY);
    const d = routeAnomaly(ahead.next, warning(NOW), NOW, POLICY);
    expect(d.route).toBe('notify');
  });
});
