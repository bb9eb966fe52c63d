/**
 * Compares the seed job's captured output with ours, line by line as multisets: Flink does not
 * order lines of different sensors that fire at the same moment, and a TaskManager's stdout may
 * prefix each line with its subtask ("1> ") when the job runs with parallelism above 1.
 */

export interface FlinkLine {
  readonly sensorId: string;
  /** The numbers as printed; compared as text first, then by value. */
  readonly valueText: string;
  readonly avgText: string;
  /** 1-based line number in its file (0 for lines we produced). */
  readonly lineNumber: number;
}

const LINE = /^(?:\d+> )?ANOMALY → (.*): value=(\S+), avg=(\S+)$/;

/** The seed's lines in a log, whatever else the log holds (Flink's own log lines are skipped). */
export function parseFlinkLog(text: string): { lines: FlinkLine[]; otherLines: number } {
  const lines: FlinkLine[] = [];
  let otherLines = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const match = LINE.exec(raw.trimEnd());
    if (match === null) {
      if (raw.trim() !== '') otherLines += 1;
      return;
    }
    lines.push({
      sensorId: match[1] ?? '',
      valueText: match[2] ?? '',
      avgText: match[3] ?? '',
      lineNumber: i + 1,
    });
  });
  return { lines, otherLines };
}

export function parseOurLine(text: string): FlinkLine | null {
  const match = LINE.exec(text);
  if (match === null) return null;
  return {
    sensorId: match[1] ?? '',
    valueText: match[2] ?? '',
    avgText: match[3] ?? '',
    lineNumber: 0,
  };
}

export interface ParityReport {
  /** Identical text. */
  readonly exact: number;
  /** Same sensor, same numbers by value (e.g. a JDK that prints one more digit), other text. */
  readonly sameValue: number;
  readonly oursOnly: readonly FlinkLine[];
  readonly theirsOnly: readonly FlinkLine[];
}

/**
 * Matching is a multiset match: each of their lines consumes one equal line of ours, first by
 * exact text, then by the same sensor and the same numbers read as doubles (to 1e-9 relative,
 * for printers that round differently).
 */
export function compareLines(
  ours: readonly FlinkLine[],
  theirs: readonly FlinkLine[],
): ParityReport {
  const key = (l: FlinkLine) => `${l.sensorId}\u0000${l.valueText}\u0000${l.avgText}`;
  const pool = new Map<string, FlinkLine[]>();
  for (const l of ours) {
    const k = key(l);
    const list = pool.get(k);
    if (list === undefined) pool.set(k, [l]);
    else list.push(l);
  }
  let exact = 0;
  const unmatched: FlinkLine[] = [];
  for (const l of theirs) {
    const list = pool.get(key(l));
    if (list !== undefined && list.length > 0) {
      list.pop();
      exact += 1;
    } else unmatched.push(l);
  }
  const rest = [...pool.values()].flat();
  let sameValue = 0;
  const theirsOnly: FlinkLine[] = [];
  for (const l of unmatched) {
    const i = rest.findIndex(
      (o) =>
        o.sensorId === l.sensorId &&
        close(Number(o.valueText), Number(l.valueText)) &&
        close(Number(o.avgText), Number(l.avgText)),
    );
    if (i >= 0) {
      rest.splice(i, 1);
      sameValue += 1;
    } else theirsOnly.push(l);
  }
  return { exact, sameValue, oursOnly: rest, theirsOnly };
}

function close(a: number, b: number): boolean {
  if (!(Number.isFinite(a) && Number.isFinite(b)))
    return a === b || (Number.isNaN(a) && Number.isNaN(b));
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}
