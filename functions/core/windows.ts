import { CoreConfigError } from './errors.ts';
import { type Aggregate, EMPTY_AGGREGATE } from './types.ts';

/** Sliding windows of `windowMs` that move every `slideMs` (semantics.md §2). */
export interface WindowSpec {
  readonly slideMs: number;
  readonly windowMs: number;
}

export function validateWindowSpec(spec: WindowSpec): WindowSpec {
  const { slideMs, windowMs } = spec;
  if (!Number.isInteger(slideMs) || slideMs <= 0) {
    throw new CoreConfigError(`slide must be a positive whole number of ms, got ${slideMs}`);
  }
  if (!Number.isInteger(windowMs) || windowMs < slideMs || windowMs % slideMs !== 0) {
    throw new CoreConfigError(
      `window (${windowMs} ms) must be a whole multiple of the slide (${slideMs} ms)`,
    );
  }
  return spec;
}

/** Start (ms) of the bucket that holds event time `eventTimeMs`: floor(t / S) · S. */
export function bucketStartMs(eventTimeMs: number, spec: WindowSpec): number {
  return Math.floor(eventTimeMs / spec.slideMs) * spec.slideMs;
}

/** The k bucket starts of the window that ends with the reading's own bucket, oldest first. */
export function windowBucketStarts(eventTimeMs: number, spec: WindowSpec): number[] {
  const last = bucketStartMs(eventTimeMs, spec);
  const k = spec.windowMs / spec.slideMs;
  const starts: number[] = [];
  for (let i = k - 1; i >= 0; i -= 1) starts.push(last - i * spec.slideMs);
  return starts;
}

export function addValue(aggregate: Aggregate, value: number): Aggregate {
  return {
    count: aggregate.count + 1,
    sum: aggregate.sum + value,
    sumSq: aggregate.sumSq + value * value,
  };
}

/**
 * Combines bucket aggregates in the order given. Callers pass buckets oldest first so that
 * floating-point sums come out bit-identical however the stream was cut into batches.
 */
export function combine(aggregates: readonly Aggregate[]): Aggregate {
  let result = EMPTY_AGGREGATE;
  for (const a of aggregates) {
    result = {
      count: result.count + a.count,
      sum: result.sum + a.sum,
      sumSq: result.sumSq + a.sumSq,
    };
  }
  return result;
}
