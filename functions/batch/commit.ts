import { StoreConflictError } from '../adapters/store-errors.ts';
import type { PageCache } from './page-cache.ts';
import type { PageWrite, PartitionRoot, PartitionStore } from './state.ts';

/** A fresh commit id: names one attempt's root write, so the attempt can recognise it. */
export function newCommitId(): string {
  return Math.floor(Math.random() * 36 ** 6)
    .toString(36)
    .padStart(6, '0');
}

/** The generation of the pages a root version points to: unique per attempt. */
export function generation(root: Pick<PartitionRoot, 'version' | 'commitId'>): string {
  return `${root.version.toString(36)}.${root.commitId}`;
}

/**
 * Makes a batch durable: its new pages (new keys, invisible until referenced), then the one
 * conditional write of the root that points to them. A condition that fails because this very
 * attempt's write had landed (the SDK retried a write whose response was lost) is recognised
 * by the commit id and counts as done; any other is a conflict (another invocation of the
 * same partition got there first), and the batch is judged again from the new root.
 */
export async function commit(
  store: PartitionStore,
  cache: PageCache,
  pid: string,
  before: PartitionRoot | null,
  root: PartitionRoot,
  pages: readonly PageWrite[],
): Promise<void> {
  if (pages.length > 0) await store.putPages(pages);
  // Immutable: safe to cache before the root points to them (nothing reads them until then).
  for (const w of pages) cache.set(w.key, w.page);
  await writeRoot(store, pid, before, root);
}

/** The conditional root write, recognising its own landed write. */
export async function writeRoot(
  store: PartitionStore,
  pid: string,
  before: PartitionRoot | null,
  root: PartitionRoot,
): Promise<void> {
  try {
    await store.commitRoot(pid, root, before?.version ?? null);
  } catch (error) {
    if (!(error instanceof StoreConflictError)) throw error;
    const now = (await store.readRoots([pid])).get(pid);
    if (now?.version === root.version && now.commitId === root.commitId) return;
    throw error;
  }
}
