import type { RawRecord } from '../core/types.ts';
import { MAX_GAPS, MAX_SOURCES } from './layout.ts';
import type { OffsetGap, PartitionRoot, SourceMark } from './state.ts';

/** The part of a root that says which records have been decided. */
export interface Decided {
  readonly epoch: number;
  readonly decidedThroughOffset: number;
  readonly maxTimestampMs: number;
  readonly gaps: readonly OffsetGap[];
  readonly sources: Readonly<Record<string, SourceMark>>;
}

export const NOTHING_DECIDED: Decided = {
  epoch: 0,
  decidedThroughOffset: -1,
  maxTimestampMs: Number.NEGATIVE_INFINITY,
  gaps: [],
  sources: {},
};

export type Admission = 'judge' | 'redelivered' | 'duplicate';

/**
 * Which records of one partition are judged now (semantics.md §6): a record at or below the
 * decided offset was judged in an earlier attempt, unless it cannot have been — a record of a
 * recreated topic (newer than every record decided: a new epoch), or of a range of offsets
 * the event source mapping skipped (a gap). A repartitioned record whose source offset is at
 * or below its source partition's mark is a copy the repartition step produced again after a
 * retry ('duplicate'). Records are taken in offset order, one at a time, so a batch may stop
 * after any record and commit what it decided so far.
 */
export class Admitter {
  private epochNow: number;
  private decidedThrough: number;
  private maxTimestampMs: number;
  private readonly gaps: OffsetGap[];
  private readonly sources: Map<string, SourceMark>;
  /** Whether anything differs from the root (a commit is needed even with nothing judged). */
  private changed = false;

  constructor(before: Decided, records: readonly RawRecord[]) {
    this.epochNow = before.epoch;
    this.decidedThrough = before.decidedThroughOffset;
    this.maxTimestampMs = before.maxTimestampMs;
    this.gaps = before.gaps.map((g) => ({ ...g }));
    this.sources = new Map(Object.entries(before.sources));
    // A record at a decided offset but newer than every decided record cannot be a
    // redelivery: the topic was recreated (offsets restart at 0). A new epoch judges it.
    const reincarnated = records.some(
      (r) =>
        r.offset <= this.decidedThrough &&
        r.timestampMs >= 0 &&
        r.timestampMs > this.maxTimestampMs &&
        this.gapOf(r.offset) === undefined,
    );
    if (reincarnated) {
      this.epochNow += 1;
      this.decidedThrough = -1;
      this.maxTimestampMs = Number.NEGATIVE_INFINITY;
      this.gaps.length = 0;
      this.changed = true;
    }
    // Offsets the mapping skipped (it gave up on a batch, or they hold no record) stay
    // undecided, so a replay judges them. Before a partition's first batch nothing was
    // decided at all: a first batch that starts past 0 leaves the offsets before it open.
    const first = records.find((r) => r.offset > this.decidedThrough)?.offset;
    if (first !== undefined && first > this.decidedThrough + 1) {
      this.gaps.push({
        from: this.decidedThrough + 1,
        to: first - 1,
        decidedThrough: this.decidedThrough,
      });
      if (this.gaps.length > MAX_GAPS) this.gaps.splice(0, this.gaps.length - MAX_GAPS);
      this.changed = true;
    }
  }

  private gapOf(offset: number): OffsetGap | undefined {
    return this.gaps.find((g) => g.from <= offset && offset <= g.to);
  }

  /** Decides one record, in offset order, and moves the marks past it. */
  next(record: RawRecord): Admission {
    const gap = record.offset <= this.decidedThrough ? this.gapOf(record.offset) : undefined;
    const decided =
      gap === undefined
        ? record.offset <= this.decidedThrough
        : record.offset <= gap.decidedThrough;
    if (decided) return 'redelivered';
    this.changed = true;
    if (gap !== undefined) (gap as { decidedThrough: number }).decidedThrough = record.offset;
    else this.decidedThrough = record.offset;
    if (record.timestampMs > this.maxTimestampMs) this.maxTimestampMs = record.timestampMs;
    const origin = record.origin;
    if (origin === undefined) return 'judge';
    const key = `${origin.topic}#${origin.partition}`;
    const mark = this.sources.get(key);
    // A copy re-produced after a retry keeps its source offset and timestamp; a newer
    // timestamp at an old source offset is a recreated source topic.
    if (
      mark !== undefined &&
      origin.offset <= mark.offset &&
      !(record.timestampMs >= 0 && record.timestampMs > mark.maxTimestampMs)
    )
      return 'duplicate';
    const recreated = mark !== undefined && origin.offset <= mark.offset;
    this.sources.delete(key);
    this.sources.set(key, {
      offset: origin.offset,
      maxTimestampMs: recreated
        ? record.timestampMs
        : Math.max(mark?.maxTimestampMs ?? Number.NEGATIVE_INFINITY, record.timestampMs),
    });
    if (this.sources.size > MAX_SOURCES) {
      const oldest = this.sources.keys().next().value as string;
      this.sources.delete(oldest);
    }
    return 'judge';
  }

  /** The partition's epoch (alert ids of a later epoch carry it). */
  get epoch(): number {
    return this.epochNow;
  }

  /** Whether the root must be written even if nothing was judged. */
  get dirty(): boolean {
    return this.changed;
  }

  decided(): Decided {
    return {
      epoch: this.epochNow,
      decidedThroughOffset: this.decidedThrough,
      maxTimestampMs: this.maxTimestampMs,
      gaps: this.gaps.map((g) => ({ ...g })),
      sources: Object.fromEntries(this.sources),
    };
  }
}

export function decidedOf(root: PartitionRoot | null): Decided {
  return root ?? NOTHING_DECIDED;
}
