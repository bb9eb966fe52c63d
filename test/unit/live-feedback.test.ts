import { describe, expect, it } from 'vitest';
import type { FeedbackList } from '../../functions/adapters/dynamodb-feedback-store.ts';
import type { FeedbackRecord } from '../../functions/core/feedback.ts';
import { LiveFeedback } from '../../functions/live-feedback.ts';
import { RULES_REFRESH_MS } from '../../functions/live-rules.ts';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const verdict = (over: Partial<FeedbackRecord> = {}): FeedbackRecord => ({
  alertId: 'a',
  sensorId: 's1',
  verdict: 'not-anomaly',
  score: 0.6,
  recordedAtMs: T0 - 1000,
  expiresAtMs: T0 + 60_000,
  by: '',
  ...over,
});

/** A store whose answers the test sets (the dynalite tests read the real one). */
function store() {
  const s = {
    reads: 0,
    next: { records: [], invalid: 0, truncated: false } as FeedbackList | Error,
    async list(): Promise<FeedbackList> {
      s.reads += 1;
      if (s.next instanceof Error) throw s.next;
      return s.next;
    },
  };
  return s;
}

describe('LiveFeedback: the cache in front of the verdicts', () => {
  it('reads once per period, follows a new verdict and its expiry', async () => {
    let now = T0;
    const s = store();
    const changes: number[] = [];
    const live = new LiveFeedback({
      store: s,
      clock: () => now,
      events: { changed: (count) => changes.push(count) },
    });
    expect((await live.resolver())('s1')).toBeUndefined();
    s.next = { records: [verdict()], invalid: 0, truncated: false };
    now += RULES_REFRESH_MS - 1;
    expect((await live.resolver())('s1')).toBeUndefined();
    expect(s.reads).toBe(1);
    now += 1;
    expect((await live.resolver())('s1')?.verdicts).toHaveLength(1);
    expect(s.reads).toBe(2);
    expect(changes).toEqual([1]);
    // Expired: gone at the next read, though the store still lists it (TTL is lazy).
    now = T0 + 60_000 + RULES_REFRESH_MS;
    expect((await live.resolver())('s1')).toBeUndefined();
    expect(changes).toEqual([1]);
  });

  it('fails the batch when it never read; afterwards keeps the verdicts in hand and retries sooner', async () => {
    let now = T0;
    const s = store();
    const failures: unknown[] = [];
    const live = new LiveFeedback({
      store: s,
      clock: () => now,
      events: { readFailed: (e) => failures.push(e) },
    });
    s.next = new Error('throttled');
    await expect(live.resolver()).rejects.toThrow('throttled');
    s.next = { records: [verdict()], invalid: 0, truncated: false };
    expect((await live.resolver())('s1')).toBeDefined();
    s.next = new Error('throttled again');
    now += RULES_REFRESH_MS;
    expect((await live.resolver())('s1')).toBeDefined();
    expect(failures).toHaveLength(1);
    const reads = s.reads;
    now += 5_000;
    s.next = { records: [], invalid: 0, truncated: false };
    expect((await live.resolver())('s1')).toBeUndefined();
    expect(s.reads).toBe(reads + 1);
  });
});
