import { contributionOf, periodStart } from '../core/alerting/digest.ts';
import type { EpisodeEnd } from '../core/alerting/episodes.ts';
import type { AlertDecision } from '../core/types.ts';
import { type DigestHead, MAX_DIGEST_HEADS, type PageWrite, type PartitionRoot } from './state.ts';

/** Digest pages live a week: the digest function reads them after their period closes. */
export const DIGEST_PAGE_TTL_SECONDS = 7 * 86_400;

/**
 * A commit's share of its period's email digest (docs/alerting.md): an immutable page keyed
 * by period, chained to the partition's previous contribution of that period, and the root's
 * heads with this page as the period's head. The page is written with the commit's other
 * pages, before the root; the root write makes it count. Nothing when digests are off
 * (`periodMs` 0) or the piece has nothing for the digest.
 */
export function digestStep(input: {
  readonly pid: string;
  readonly before: PartitionRoot | null;
  readonly alerts: readonly AlertDecision[];
  readonly ends: readonly EpisodeEnd[];
  readonly nowMs: number;
  readonly periodMs: number;
  readonly gen: string;
}): { write: PageWrite | null; heads: readonly DigestHead[] } {
  const heads = input.before?.digestHeads ?? [];
  const contribution = input.periodMs > 0 ? contributionOf(input.alerts, input.ends) : null;
  if (contribution === null) return { write: null, heads };
  const period = periodStart(input.nowMs, input.periodMs);
  const prev = heads.find((h) => h.periodStartMs === period)?.gen ?? null;
  const write: PageWrite = {
    key: { pid: input.pid, kind: 'digest', scope: period, chunk: 0, gen: input.gen },
    page: { kind: 'digest', prev, contribution },
    expiresAtEpochSeconds: Math.floor(input.nowMs / 1000) + DIGEST_PAGE_TTL_SECONDS,
  };
  const next = [
    ...heads.filter((h) => h.periodStartMs !== period),
    { periodStartMs: period, gen: input.gen },
  ]
    .sort((a, b) => a.periodStartMs - b.periodStartMs)
    .slice(-MAX_DIGEST_HEADS);
  return { write, heads: next };
}
