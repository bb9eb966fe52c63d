import { createHash } from 'node:crypto';

/**
 * A map split by design into byte-bounded pages (docs/silence.md, "Bounded in bytes"): the
 * last-seen record of a partition and the check's silent set. Extendible hashing: a page
 * holds the entries whose key hash ends in its `bits` (low bit first; the root page `''`
 * holds all), and a page whose encoding would pass the store's byte budget is split in two
 * by the next bit of the hash, again until every piece fits. A head lists the pages; it is
 * rewritten only when the set of pages changes. Pages are never merged: they only get
 * smaller when entries go.
 */

export interface Page<V> {
  /** null: the page was never written (or expired), it is written conditional on absence. */
  readonly version: number | null;
  readonly entries: ReadonlyMap<string, V>;
}

export interface PagedMap<V> {
  /** The head's version; null: no head yet. */
  readonly version: number | null;
  /** Page bits → page; together the pages cover every hash. */
  readonly pages: ReadonlyMap<string, Page<V>>;
  /**
   * The map never split: its one page, the root, is held in the head item itself, so a small
   * map is one item to read and write (as the earlier one-item layout, which reads so).
   */
  readonly inline?: boolean;
}

/** The store of one kind of paged map (one DynamoDB partition key per map). */
export interface PagedStore<V> {
  /** The maps of `keys` that exist (head and pages); absent keys are left out. */
  load(keys: readonly string[]): Promise<Map<string, PagedMap<V>>>;
  /** The head's version only (one small read): has another writer changed the page set? */
  headVersion(key: string): Promise<number | null>;
  /**
   * Conditional on `expected` (null: must not exist; 'any': unconditional, for the new pages
   * of a split, which only the head's conditional write makes visible); a lost race throws
   * StoreConflictError.
   */
  savePage(key: string, bits: string, page: Page<V>, expected: PageExpectation): Promise<void>;
  /** `inline`: the root page's entries, held in the head (bits is then `['']`). */
  saveHead(
    key: string,
    bits: readonly string[],
    version: number,
    expected: number | null,
    inline?: ReadonlyMap<string, V>,
  ): Promise<void>;
  /** Whether a page holding exactly `entries` stays within the store's byte budget. */
  fits(entries: ReadonlyMap<string, V>): boolean;
}

/** What a page write expects to find: a version, no item (null), or anything ('any'). */
export type PageExpectation = number | null | 'any';

/** A map never written: one empty root page, no head. */
export function emptyPagedMap<V>(): PagedMap<V> {
  return { version: null, pages: new Map([['', { version: null, entries: new Map() }]]) };
}

/** Deepest split: 32 bits of SHA-256; more than a page of ids sharing them is not a risk. */
const MAX_DEPTH = 32;

/** Hashes computed lately (a sensor's hash is needed at each write of its page). */
const hashCache = new Map<string, number>();
const HASH_CACHE_SIZE = 200_000;

/** 32 bits of SHA-256 of the key: a producer cannot make its ids collide into one page. */
export function pageHash(key: string): number {
  const cached = hashCache.get(key);
  if (cached !== undefined) return cached;
  const hash = createHash('sha256').update(key).digest().readUInt32LE(0);
  if (hashCache.size >= HASH_CACHE_SIZE) hashCache.clear();
  hashCache.set(key, hash);
  return hash;
}

const maskOf = (depth: number) => (depth >= 32 ? 0xffffffff : (1 << depth) - 1);

/** A page's bits (low bit first) as the number its hashes end in. */
function bitsValue(bits: string): number {
  let value = 0;
  for (let i = 0; i < bits.length; i += 1) if (bits[i] === '1') value |= 1 << i;
  return value >>> 0;
}

/** Finds the page of a hash among `pages` (a prefix-free cover of the hash space). */
function pageFinder(pages: Iterable<string>): (hash: number) => string {
  const byDepth = new Map<number, Map<number, string>>();
  for (const bits of pages) {
    const values = byDepth.get(bits.length) ?? new Map<number, string>();
    byDepth.set(bits.length, values);
    values.set(bitsValue(bits), bits);
  }
  const depths = [...byDepth.keys()].sort((a, b) => a - b);
  return (hash) => {
    for (const depth of depths) {
      const bits = byDepth.get(depth)?.get((hash & maskOf(depth)) >>> 0);
      if (bits !== undefined) return bits;
    }
    throw new Error('paged map: the pages do not cover every hash');
  };
}

/** Every entry of the map, flat. */
export function allEntries<V>(map: PagedMap<V>): Map<string, V> {
  const all = new Map<string, V>();
  for (const page of map.pages.values()) for (const [k, v] of page.entries) all.set(k, v);
  return all;
}

export interface PagesPlan<V> {
  /** Pages to write (each conditional on `expected`), with their new content. */
  readonly writes: readonly { bits: string; page: Page<V>; expected: PageExpectation }[];
  /** The head to write after the pages, when the page set changed. */
  readonly head: {
    bits: readonly string[];
    version: number;
    expected: number | null;
    inline?: ReadonlyMap<string, V>;
  } | null;
  /** The map as it is once the plan is written. */
  readonly next: PagedMap<V>;
}

/**
 * Lays `entries` (the map's whole new content) out on `current`'s pages: only pages whose
 * content changed are written, a page that does not `fit` is split until every piece does.
 * A written page's version is max(previous + 1, nowMs), so a page that expired and was
 * written again never reuses a version a warm cache may hold.
 */
export function planPages<V>(
  current: PagedMap<V>,
  entries: ReadonlyMap<string, V>,
  fits: (entries: ReadonlyMap<string, V>) => boolean,
  nowMs: number,
  same: (a: V, b: V) => boolean = Object.is,
): PagesPlan<V> {
  const byPage = new Map<string, Map<string, V>>();
  for (const bits of current.pages.keys()) byPage.set(bits, new Map());
  const hashes = new Map<string, number>();
  const pageOf = pageFinder(current.pages.keys());
  for (const [key, value] of entries) {
    const hash = pageHash(key);
    hashes.set(key, hash);
    byPage.get(pageOf(hash))?.set(key, value);
  }
  const writes: { bits: string; page: Page<V>; expected: PageExpectation }[] = [];
  const pages = new Map<string, Page<V>>();
  let split = false;
  const place = (bits: string, content: Map<string, V>, before: Page<V> | undefined) => {
    if (!fits(content)) {
      if (bits.length >= MAX_DEPTH) throw new Error('paged map: a page cannot be split further');
      split = true;
      const halves: [Map<string, V>, Map<string, V>] = [new Map(), new Map()];
      for (const [key, value] of content) {
        halves[((hashes.get(key) as number) >>> bits.length) & 1]?.set(key, value);
      }
      place(`${bits}0`, halves[0], undefined);
      place(`${bits}1`, halves[1], undefined);
      return;
    }
    // A page never written (or expired) reads as empty: left so while it stays empty.
    const unchanged =
      before !== undefined &&
      (before.version !== null || content.size === 0) &&
      sameEntries(before.entries, content, same);
    if (unchanged) {
      pages.set(bits, before);
      return;
    }
    // A split's new pages may exist already, orphans of an attempt that failed before its head.
    const expected: PageExpectation = before === undefined ? 'any' : before.version;
    const page = { version: Math.max((before?.version ?? 0) + 1, nowMs), entries: content };
    pages.set(bits, page);
    writes.push({ bits, page, expected });
  };
  for (const [bits, content] of byPage) place(bits, content, current.pages.get(bits));
  const root = pages.get('');
  if (!split && root !== undefined && (current.inline === true || current.version === null)) {
    // Still one page: it stays in the head, rewritten with it when it changed.
    if (writes.length === 0 && current.version !== null) {
      return { writes: [], head: null, next: current };
    }
    const version = (current.version ?? 0) + 1;
    return {
      writes: [],
      head: { bits: [''], version, expected: current.version, inline: root.entries },
      next: { version, inline: true, pages: new Map([['', { version, entries: root.entries }]]) },
    };
  }
  const headChanged = split || current.version === null || current.inline === true;
  const version = headChanged ? (current.version ?? 0) + 1 : (current.version as number);
  return {
    writes,
    head: headChanged ? { bits: [...pages.keys()], version, expected: current.version } : null,
    next: { version, pages },
  };
}

/** Writes a plan: the pages first, then the head that lists them (the commit of a split). */
export async function commitPlan<V>(
  store: PagedStore<V>,
  key: string,
  plan: PagesPlan<V>,
): Promise<void> {
  await Promise.all(plan.writes.map((w) => store.savePage(key, w.bits, w.page, w.expected)));
  if (plan.head !== null)
    await store.saveHead(
      key,
      plan.head.bits,
      plan.head.version,
      plan.head.expected,
      plan.head.inline,
    );
}

function sameEntries<V>(
  a: ReadonlyMap<string, V>,
  b: ReadonlyMap<string, V>,
  same: (a: V, b: V) => boolean,
): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) {
    const other = b.get(key);
    if (other === undefined || !same(value, other)) return false;
  }
  return true;
}
