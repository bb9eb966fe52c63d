import { OpenWindows } from '../../core/open-windows.ts';
import type { Reading } from '../../core/types.ts';
import type { HeldReading, WindowCloseSpec } from '../../core/window-close.ts';
import { fetchPages } from '../load.ts';
import type { PageCache } from '../page-cache.ts';
import {
  type OpenBucketRefs,
  type OpenPage,
  type OpenWindowsRoot,
  type PageKey,
  type PageWrite,
  type PartitionRoot,
  type PartitionStore,
  pageId,
} from '../state.ts';

/**
 * The open windows' readings in open pages (docs/state.md, "Open windows"). A bucket start's
 * readings are appended, a part per commit that added any (pages are immutable: a commit
 * writes only what it added, never the readings before), and compacted into full parts when
 * a bucket has more than OPEN_MAX_PARTS. A bucket's ref leaves the root once no window of it
 * is open; a sensor's readings of a bucket whose windows all closed are left in their parts
 * and dropped when read (the watermark and cursor say which), so closing a window writes
 * nothing but the root.
 */

/** A part is cut when its readings' bound reaches this: far below the 400 KB item limit. */
export const OPEN_PAGE_BUDGET_BYTES = 256 * 1024;
/**
 * The most one held reading encodes to (open-codec.ts): a 24-character double, the event time,
 * offset and arrival number as offsets within the page (16 digits each at most), an index of a
 * record of 64 readings, brackets and commas.
 */
export const OPEN_READING_MAX_BYTES = 80;
/** A sensor's row header: a 256-byte id of characters JSON escapes, and brackets. */
export const OPEN_SENSOR_MAX_BYTES = 520;
/**
 * What a commit's outbox leaves of its budget for the root's window-close state (attribute
 * `w`): a cursor and a queued record of 64 readings of 256-byte ids JSON escapes (about 56 KB),
 * and the open pages' refs (about 20 bytes a part: some 400 parts, 100 MB of held readings).
 * test/unit/item-budgets.test.ts builds that root with every other part at its worst.
 */
export const OPEN_WINDOWS_ROOT_RESERVE_BYTES = 64 * 1024;

/** Parts a bucket start may have before its live readings are rewritten into full parts. */
export const OPEN_MAX_PARTS = 16;

export function openKey(pid: string, startMs: number, part: number, gen: string): PageKey {
  return { pid, kind: 'open', scope: startMs, chunk: part, gen };
}

/**
 * The open windows of a partition as its root says, from the container's cache or one read.
 * Readings of windows already closed are dropped here (OpenWindows derives which).
 */
export async function loadOpenWindows(
  ctx: { readonly store: PartitionStore; readonly cache: PageCache; readonly nowSeconds: number },
  pid: string,
  root: PartitionRoot | null,
  spec: WindowCloseSpec,
): Promise<{ open: OpenWindows; pagesRead: number }> {
  const w = root?.openWindows;
  if (w === undefined) return { open: new OpenWindows(spec), pagesRead: 0 };
  const keys: PageKey[] = [];
  for (const b of w.buckets) {
    b.parts.forEach((gen, n) => {
      keys.push(openKey(pid, b.startMs, n, gen));
    });
  }
  const { pages, read } = await fetchPages(ctx, keys);
  const sensors = new Map<string, Map<number, HeldReading[]>>();
  for (const key of keys) {
    // A part lost to its TTL (a partition idle past the retention margin with no flush):
    // its readings are gone, as a bucket's aggregates would be.
    const page = pages.get(pageId(key));
    if (page?.kind !== 'open') continue;
    for (const [sensorId, held] of page.sensors) {
      let byStart = sensors.get(sensorId);
      if (byStart === undefined) {
        byStart = new Map();
        sensors.set(sensorId, byStart);
      }
      const list = byStart.get(key.scope);
      if (list === undefined) byStart.set(key.scope, [...held]);
      else list.push(...held);
    }
  }
  const open = new OpenWindows(spec, {
    watermarkMs: w.watermarkMs,
    seq: w.seq,
    closing: w.closing,
    sensors,
  });
  return { open, pagesRead: read };
}

/** Cuts held readings into parts whose bound stays within OPEN_PAGE_BUDGET_BYTES. */
export function cutParts(readings: ReadonlyMap<string, readonly HeldReading[]>): OpenPage[] {
  const parts: OpenPage[] = [];
  let current = new Map<string, HeldReading[]>();
  let bytes = 0;
  for (const [sensorId, held] of readings) {
    let i = 0;
    while (i < held.length) {
      if (bytes + OPEN_SENSOR_MAX_BYTES + OPEN_READING_MAX_BYTES > OPEN_PAGE_BUDGET_BYTES) {
        parts.push({ kind: 'open', sensors: current });
        current = new Map();
        bytes = 0;
      }
      bytes += OPEN_SENSOR_MAX_BYTES;
      const room = Math.floor((OPEN_PAGE_BUDGET_BYTES - bytes) / OPEN_READING_MAX_BYTES);
      const slice = held.slice(i, i + room);
      const list = current.get(sensorId);
      // A sensor cut across two parts: its readings stay in arrival order, part after part.
      if (list === undefined) current.set(sensorId, slice);
      else list.push(...slice);
      bytes += slice.length * OPEN_READING_MAX_BYTES;
      i += slice.length;
    }
  }
  if (current.size > 0) parts.push({ kind: 'open', sensors: current });
  return parts;
}

export interface OpenBuild {
  readonly writes: PageWrite[];
  readonly root: OpenWindowsRoot;
}

/**
 * The open pages a commit writes and the root's open-window state after it: per bucket start
 * with live readings, the readings added since `committedSeq` as new parts (or all its live
 * readings in full parts when it has too many); refs of buckets with no live reading leave.
 */
export function buildOpenPages(input: {
  readonly pid: string;
  readonly before: OpenWindowsRoot | undefined;
  readonly open: OpenWindows;
  /** Arrival numbers below this are in the parts the root already points to. */
  readonly committedSeq: number;
  readonly queued: readonly Reading[];
  readonly gen: string;
  readonly expiresAtEpochSeconds: number;
  readonly movedAtMs: number;
}): OpenBuild {
  const { pid, open, gen } = input;
  const writes: PageWrite[] = [];
  const beforeRefs = new Map((input.before?.buckets ?? []).map((b) => [b.startMs, b]));
  const buckets: OpenBucketRefs[] = [];
  for (const startMs of [...open.bucketStarts()].sort((a, b) => a - b)) {
    const live = open.bucketReadings(startMs);
    const old = beforeRefs.get(startMs);
    const added = new Map<string, HeldReading[]>();
    for (const [sensorId, held] of live) {
      const fresh = held.filter((r) => r.seq >= input.committedSeq);
      if (fresh.length > 0) added.set(sensorId, fresh);
    }
    if (added.size === 0 && old !== undefined) {
      buckets.push(old);
      continue;
    }
    const appended = cutParts(added);
    const compact = (old?.parts.length ?? 0) + appended.length > OPEN_MAX_PARTS;
    const parts = compact ? cutParts(live) : appended;
    const first = compact ? 0 : (old?.parts.length ?? 0);
    parts.forEach((page, i) => {
      writes.push({
        key: openKey(pid, startMs, first + i, gen),
        page,
        expiresAtEpochSeconds: input.expiresAtEpochSeconds,
      });
    });
    buckets.push({
      startMs,
      expiresAtEpochSeconds: Math.max(old?.expiresAtEpochSeconds ?? 0, input.expiresAtEpochSeconds),
      parts: [...(compact ? [] : (old?.parts ?? [])), ...parts.map(() => gen)],
    });
  }
  const state = open.state();
  return {
    writes,
    root: {
      watermarkMs: state.watermarkMs,
      seq: state.seq,
      closing: state.closing,
      movedAtMs: input.movedAtMs,
      buckets,
      queued: input.queued,
    },
  };
}

/**
 * An open page lives as long as a bucket page, plus the allowed lateness: a partition whose
 * windows stay open past that (no reading, no flush for the retention margin) loses them, as
 * it loses its buckets' aggregates.
 */
export function openPagesExpireAt(
  settings: { readonly windowMs: number; readonly retentionMarginSeconds: number } & {
    readonly allowedLatenessMs?: number;
  },
  nowSeconds: number,
): number {
  const lateness = settings.allowedLatenessMs ?? 2000;
  return (
    nowSeconds + Math.ceil((settings.windowMs + lateness) / 1000) + settings.retentionMarginSeconds
  );
}
