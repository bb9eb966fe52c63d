import type { EpisodeEnd } from '../core/alerting/episodes.ts';
import type { AlertDecision } from '../core/types.ts';
import type { AlertPublisher, AnomalySink, BatchObserver } from '../ports.ts';
import { newCommitId, writeRoot } from './commit.ts';
import type { PartitionRoot, PartitionStore } from './state.ts';

export interface DeliverDeps {
  readonly store: PartitionStore;
  readonly publisher: AlertPublisher;
  readonly sinks: readonly AnomalySink[];
  readonly observer: BatchObserver;
}

/**
 * The outbox's effects: the notifications to SNS and every anomaly to each sink, all at
 * once. Each send settles before a failure is thrown, so nothing is still running when the
 * batch is retried. While a sink is down the batch fails and the mapping retries it: the
 * outbox is never dropped, and no new records are judged (nothing grows).
 */
export async function send(
  deps: DeliverDeps,
  outbox: readonly AlertDecision[],
  ends: readonly EpisodeEnd[] = [],
): Promise<number> {
  const toPublish = outbox.filter((a) => a.notify);
  const resolved = ends.filter((e) => e.notify);
  const sends: Promise<void>[] = [];
  if (toPublish.length > 0)
    sends.push(deps.publisher.publish(toPublish).then(() => deps.observer.published(toPublish)));
  if (resolved.length > 0 && deps.publisher.publishResolved !== undefined)
    sends.push(deps.publisher.publishResolved(resolved));
  if (outbox.length > 0) for (const sink of deps.sinks) sends.push(sink.deliver(outbox));
  const failed = (await Promise.allSettled(sends)).find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  return toPublish.length;
}

/**
 * Delivers a committed root's outbox, then empties it with one more conditional root write.
 * Resolves to the root as stored after that. A crash in between leaves the outbox in the
 * root: the next attempt delivers it again (duplicates only after a failure, same alert ids).
 */
export async function deliverOutbox(
  deps: DeliverDeps,
  pid: string,
  root: PartitionRoot,
): Promise<{ root: PartitionRoot; sent: number }> {
  const ends = root.episodeEnds ?? [];
  if (root.outbox.length === 0 && ends.length === 0) return { root, sent: 0 };
  const sent = await send(deps, root.outbox, ends);
  const { episodeEnds: _delivered, ...rest } = root;
  const trimmed: PartitionRoot = {
    ...rest,
    version: root.version + 1,
    commitId: newCommitId(),
    outbox: [],
  };
  await writeRoot(deps.store, pid, root, trimmed);
  return { root: trimmed, sent };
}
