import { MAPPING_FLAGS } from './columns.ts';

/** What a read of a recorded input came to, as far as "was anything read" goes. */
export interface ReadOutcome {
  readonly records: number;
  readonly readings: number;
  readonly rejected: number;
  readonly rejectedByReason: Readonly<Record<string, number>>;
  readonly rejectedExamples: readonly { readonly reason: string; readonly detail: string }[];
  readonly columnsSeen: readonly string[] | null;
}

/**
 * One line that says why an input gave no reading and what to do, or null when it gave
 * some: an empty input, one of only a header and comments, or one whose every line was
 * rejected (most often columns read wrongly: it names the columns and the flags).
 */
export function nothingRead(outcome: ReadOutcome, emptyInput: boolean): string | null {
  if (outcome.readings > 0) return null;
  if (emptyInput) return 'the input is empty: no readings to read';
  if (outcome.records === 0 && outcome.rejected === 0) {
    const header =
      outcome.columnsSeen === null ? '' : ` (a header: ${outcome.columnsSeen.join(', ')})`;
    return `no data lines, only blank lines, comments or a header${header}`;
  }
  const top = Object.entries(outcome.rejectedByReason).sort(([, a], [, b]) => b - a)[0];
  const example = outcome.rejectedExamples.find((e) => e.reason === top?.[0]);
  const why =
    top === undefined ? '' : ` (${top[0]}${example === undefined ? '' : `: ${example.detail}`})`;
  const columns =
    outcome.columnsSeen === null
      ? 'no header; give one naming the columns, or use --format'
      : `columns seen: ${outcome.columnsSeen.join(', ')}; map them with ${MAPPING_FLAGS}`;
  return `no valid reading: all ${outcome.rejected} rejected${why}; ${columns}`;
}
