import type { FeedbackList } from './adapters/dynamodb-feedback-store.ts';
import { compileFeedback, type FeedbackRecord, type FeedbackResolver } from './core/feedback.ts';
import { RULES_REFRESH_MS } from './live-rules.ts';

/** After a failed read, how long before the next try (the verdicts in hand stay in use). */
const RETRY_AFTER_READ_ERROR_MS = 5_000;

export interface LiveFeedbackEvents {
  /** A different set of verdicts is in use from now on. */
  changed?(count: number, before: number): void;
  /** The items could not be read; the verdicts in hand stay in use until the next try. */
  readFailed?(error: unknown): void;
  /** Items that are not verdicts, or more than the store reads: told on every read. */
  skipped?(invalid: number, truncated: boolean): void;
}

export interface LiveFeedbackOptions {
  readonly store: { list(options: { forBatch: true }): Promise<FeedbackList> };
  /** The same cadence as the rules document: a verdict reaches the next batches within it. */
  readonly refreshMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
  readonly events?: LiveFeedbackEvents;
}

/**
 * The operators' verdicts as a container's batches see them (docs/feedback.md): read from the
 * table at most once per `refreshMs` (a Query of the `feedback` items, shared by concurrent
 * batches), like the rules document, and compiled per sensor for the batch's time.
 */
export class LiveFeedback {
  private readonly refreshMs: number;
  private readonly clock: () => number;
  private records: readonly FeedbackRecord[] = [];
  private compiled: { atMs: number; resolve: FeedbackResolver } | null = null;
  private nextCheckMs = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | null = null;
  private loadedOnce = false;

  constructor(private readonly options: LiveFeedbackOptions) {
    this.refreshMs = options.refreshMs ?? RULES_REFRESH_MS;
    this.clock = options.clock ?? Date.now;
  }

  /** The verdicts to judge a batch with now, read again when the cache period is over. */
  async resolver(): Promise<FeedbackResolver> {
    if (this.clock() >= this.nextCheckMs) {
      this.inFlight ??= this.refresh().finally(() => {
        this.inFlight = null;
      });
      await this.inFlight;
    }
    const now = this.clock();
    // Compiled again with the read: a verdict's expiry is honoured to within one period.
    if (this.compiled === null)
      this.compiled = { atMs: now, resolve: compileFeedback(this.records, now) };
    return this.compiled.resolve;
  }

  private async refresh(): Promise<void> {
    const now = this.clock();
    let list: FeedbackList;
    try {
      list = await this.options.store.list({ forBatch: true });
    } catch (error) {
      // Never read yet: fail the batch (retried) rather than judge it against verdicts
      // operators gave; the table being unreadable fails the batch's own reads anyway.
      if (!this.loadedOnce) throw error;
      this.nextCheckMs = now + Math.min(RETRY_AFTER_READ_ERROR_MS, this.refreshMs);
      this.options.events?.readFailed?.(error);
      return;
    }
    this.loadedOnce = true;
    this.nextCheckMs = now + this.refreshMs;
    if (list.invalid > 0 || list.truncated)
      this.options.events?.skipped?.(list.invalid, list.truncated);
    const before = this.records.length;
    if (!sameRecords(this.records, list.records)) {
      this.records = list.records;
      this.options.events?.changed?.(list.records.length, before);
    }
    this.compiled = null;
  }
}

function sameRecords(a: readonly FeedbackRecord[], b: readonly FeedbackRecord[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] as FeedbackRecord;
    const y = b[i] as FeedbackRecord;
    if (
      x.alertId !== y.alertId ||
      x.recordedAtMs !== y.recordedAtMs ||
      x.verdict !== y.verdict ||
      x.score !== y.score ||
      x.expiresAtMs !== y.expiresAtMs
    )
      return false;
  }
  return true;
}
