import { describe, expect, it } from 'vitest';
import { Progress } from '../../local/flags/progress.ts';

/** A stream that records what is written; a terminal or not. */
function stream(isTTY: boolean) {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text) };
}

describe('the progress line of long runs', () => {
  it('on a terminal: records, rate, share and ETA, redrawn in place at most every interval, erased at the end', () => {
    // Prepare: a 1,000-byte file, a clock the test moves.
    let nowMs = 0;
    const out = stream(true);
    const progress = new Progress({
      stream: out,
      unit: 'readings',
      totalBytes: 1000,
      intervalMs: 250,
      now: () => nowMs,
    });
    // Act
    nowMs = 2000;
    progress.tick(50_000, 250);
    nowMs = 2100;
    progress.tick(52_000, 260);
    nowMs = 4000;
    progress.tick(100_000, 500);
    progress.done();
    // Assess: 25% in 2 s leaves 6 s; the second tick came too soon to draw.
    expect(out.written).toEqual([
      '\r\x1b[K50,000 readings · 25,000/s · 25% · ETA 6 s',
      '\r\x1b[K100,000 readings · 25,000/s · 50% · ETA 4 s',
      '\r\x1b[K',
    ]);
  });

  it('without a size (standard input): records and rate only', () => {
    const out = stream(true);
    const progress = new Progress({ stream: out, unit: 'readings', now: () => 1000 });
    expect(progress.line(3000, undefined, 1000)).toMatch(/^3,000 readings · \d[\d,]*\/s$/);
  });

  it('in a pipe or a file: nothing at all', () => {
    const out = stream(false);
    const progress = new Progress({ stream: out, unit: 'readings', totalBytes: 10 });
    progress.tick(5, 5);
    progress.done();
    expect(out.written).toEqual([]);
  });
});
