import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../e2e/support/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'evaluate-cli-'));

/** `npm run evaluate -- …` without npm (test/e2e/support/run-cli.ts). */
function evaluate(args: readonly string[]) {
  return runCli('local/cli/evaluate.ts', args, { timeoutMs: 120_000 });
}

/** A labelled series the project makes up: level 5, noise, one jump to 9 at row 1400. */
function labelledCsv(path: string): void {
  const lines = ['timestamp,value,label'];
  for (let i = 0; i < 2000; i += 1) {
    const value = (i >= 1400 ? 9 : 5) + 0.1 * Math.sin(i * 1.7) + 0.05 * Math.cos(i * 0.31);
    lines.push(`${Date.UTC(2026, 0, 1) + i * 300_000},${value.toFixed(4)},${i === 1400 ? 1 : 0}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

describe('npm run evaluate', () => {
  it('scores a timestamp,value,label CSV and writes the table as Markdown and JSON', async () => {
    // Prepare
    const csv = join(dir, 'jump.csv');
    labelledCsv(csv);
    // Act
    const r = await evaluate([
      '--csv',
      csv,
      '--corpus',
      'csv',
      '--detectors',
      'adaptive,gaussian',
      '--output-dir',
      dir,
      '--write-results',
    ]);
    // Assess
    expect(r.code).toBe(0);
    // Found at the event, the middle of its window [1300, 1500]: position −101/201, so
    // (2·sigmoid(5·101/201) − 1) / (2·sigmoid(5) − 1) = 0.8616, normalised (0.8616 + 1) / 2.
    expect(r.stdout).toMatch(/adaptive\s+93\.1/);
    const md = readFileSync(join(dir, 'evaluation.md'), 'utf8');
    expect(md).toContain('| `adaptive` | 93.1 |');
    const json = JSON.parse(readFileSync(join(dir, 'evaluation.json'), 'utf8'));
    expect(json.corpora[0].results[0].events).toMatchObject({ events: 1, detected: 1 });
  });

  it('writes nothing unless asked to (the committed results stay as they are)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'evaluate-no-write-'));
    const csv = join(dir, 'jump-print-only.csv');
    labelledCsv(csv);
    const r = await evaluate([
      '--csv',
      csv,
      '--corpus',
      'csv',
      '--detectors',
      'adaptive',
      '--output-dir',
      out,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/adaptive\s+93\.1/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('--write-results without the SKAB data refuses to overwrite the committed results', async () => {
    const before = readFileSync('bench/results/evaluation.md', 'utf8');
    const r = await evaluate(['--write-results', '--corpus', 'generated']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^--write-results: the committed bench\/results\/evaluation\.md has the SKAB table/,
    );
    expect(readFileSync('bench/results/evaluation.md', 'utf8')).toBe(before);
  });

  it.each([
    [
      ['--skab', '/nonexistent/skab'],
      /SKAB data not found at \/nonexistent\/skab: pass --skab DIR/,
    ],
    [['--detectors', 'magic'], /--detectors: .*"magic"/],
    [['--corpus', 'csv'], /--corpus csv: needs --csv PATH/],
  ])('%o: one line and exit 2', async (args, message) => {
    const r = await evaluate(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
