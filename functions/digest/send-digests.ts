import type { DigestPage, PartitionStore } from '../batch/state.ts';
import type { DigestContribution } from '../core/alerting/digest.ts';
import { type Digest, gatherDigest, periodStart } from '../core/alerting/digest.ts';

/** One committed or orphan contribution, as a period's query finds it. */
export interface DigestItem {
  readonly pid: string;
  readonly gen: string;
  readonly page: DigestPage;
}

/**
 * Where the digest function finds a period's contributions and remembers what it sent: the
 * one item it writes is its cursor, advanced conditionally.
 */
export interface DigestStore {
  /** Every digest page of the period (strongly consistent). */
  queryPeriod(periodStartMs: number): Promise<readonly DigestItem[]>;
  /** The start of the last period sent (or found empty); null before the first run. */
  readCursor(): Promise<number | null>;
  /** Moves the cursor from `from` to `to`; false when another run moved it first. */
  advanceCursor(from: number | null, to: number): Promise<boolean>;
}

export interface DigestPublisher {
  publishDigest(digest: Digest): Promise<void>;
}

export interface SendDigestsDeps {
  readonly digests: DigestStore;
  /** The partitions' roots: their heads say which contributions were committed. */
  readonly partitions: Pick<PartitionStore, 'readRoots'>;
  readonly publisher: DigestPublisher;
  readonly periodMs: number;
  /**
   * How long after a period's end its digest waits: a batch takes its period from its start
   * and commits up to the detector function's timeout later.
   */
  readonly graceMs: number;
  /** Periods one run sends at most (a function that was down catches up over a few runs). */
  readonly maxPeriods?: number;
}

export interface SendDigestsResult {
  readonly sent: readonly Digest[];
  /** Closed periods looked at (sent or empty). */
  readonly periods: number;
  /** Partitions whose root no longer names a head for the period (more than 64 periods late). */
  readonly untraceable: number;
}

/**
 * The digest function's use case (docs/alerting.md): every period closed for `graceMs`
 * since the cursor, oldest first: gather the committed contribution chains of every
 * partition (from each root's head for the period, following `prev`; a page no head reaches
 * is an attempt that never committed), send one digest when it holds anything, then advance
 * the cursor conditionally. Decisions are exactly once (each commit's contribution is in
 * exactly one chain); the SNS publish is at least once: a crash between the publish and the
 * cursor sends the period again on the next run.
 */
export async function sendDigests(
  deps: SendDigestsDeps,
  nowMs: number,
): Promise<SendDigestsResult> {
  const { periodMs } = deps;
  const lastClosed = periodStart(nowMs - deps.graceMs - periodMs, periodMs);
  let cursor = await deps.digests.readCursor();
  // A first run starts with the last closed period: a new stack does not send history.
  let next = cursor === null ? lastClosed : cursor + periodMs;
  const sent: Digest[] = [];
  let periods = 0;
  let untraceable = 0;
  const max = deps.maxPeriods ?? 8;
  while (next <= lastClosed && periods < max) {
    const gathered = await gatherPeriod(deps, next);
    untraceable += gathered.untraceable;
    const digest = gatherDigest(next, periodMs, gathered.contributions);
    if (digest.counts.alerts + digest.counts.resolved > 0) {
      await deps.publisher.publishDigest(digest);
      sent.push(digest);
    }
    if (!(await deps.digests.advanceCursor(cursor, next))) break;
    cursor = next;
    next += periodMs;
    periods += 1;
  }
  return { sent, periods, untraceable };
}

async function gatherPeriod(
  deps: SendDigestsDeps,
  period: number,
): Promise<{ contributions: DigestContribution[]; untraceable: number }> {
  const items = await deps.digests.queryPeriod(period);
  const byKey = new Map<string, DigestPage>();
  const pids = new Set<string>();
  for (const item of items) {
    byKey.set(`${item.pid}\u0000${item.gen}`, item.page);
    pids.add(item.pid);
  }
  const roots = await deps.partitions.readRoots([...pids]);
  const contributions: DigestContribution[] = [];
  let untraceable = 0;
  for (const pid of pids) {
    const head = roots.get(pid)?.digestHeads?.find((h) => h.periodStartMs === period);
    if (head === undefined) {
      untraceable += 1;
      continue;
    }
    // Follow the chain back; each committed page is reached once (a chain has no cycle:
    // every page names an earlier commit's generation).
    const seen = new Set<string>();
    let gen: string | null = head.gen;
    while (gen !== null && !seen.has(gen)) {
      seen.add(gen);
      const page = byKey.get(`${pid}\u0000${gen}`);
      if (page === undefined) break;
      contributions.push(page.contribution);
      gen = page.prev;
    }
  }
  return { contributions, untraceable };
}
