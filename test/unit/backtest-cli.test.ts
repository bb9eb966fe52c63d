import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../e2e/support/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'backtest-cli-'));

/** `npm run backtest -- …` without npm (test/e2e/support/run-cli.ts). */
function backtest(args: readonly string[]) {
  return runCli('local/cli/backtest.ts', args, { timeoutMs: 120_000 });
}

describe('npm run backtest', () => {
  it('replays a file, prints the summary and writes the CSV and the plot', async () => {
    // Prepare
    const csv = join(dir, 'out.csv');
    const html = join(dir, 'plot.html');
    // Act
    const { code, stdout } = await backtest([
      '--input',
      'test/fixtures/backtest/plant.csv',
      '--rules',
      'test/fixtures/backtest/rules.json',
      '--output',
      csv,
      '--plot',
      html,
      '--batch-size',
      '64',
    ]);
    // Assess: the same rows as the golden file, whatever the batch size
    expect(code).toBe(0);
    expect(stdout).toMatch(/^total +752 /m);
    expect(stdout).toContain(`wrote ${csv} (752 rows), ${html} (5 sensors)`);
    expect(readFileSync(csv, 'utf8')).toBe(readFileSync('test/golden/rules.csv', 'utf8'));
    expect(readFileSync(html, 'utf8')).toMatch(
      /^<!doctype html>[\s\S]*<script type="application\/json" id="plot-data">[\s\S]*<\/body><\/html>\n$/,
    );
  });

  it('prints the help', async () => {
    const { code, stdout } = await backtest(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: npm run backtest -- --input FILE [options]');
  });

  it.each([
    [['--input', 'test/fixtures/backtest/plant.csv', '--ewma-sigma', '0'], /--ewma-sigma: .*"0"/],
    [['--input', join(dir, 'missing.csv')], /--input: cannot read .*missing.csv \(ENOENT\)/],
    [
      ['--input', 'test/fixtures/backtest/plant.csv', '--rules', join(dir, 'none.json')],
      /rules file ".*none.json": cannot read it \(ENOENT\)/,
    ],
  ])('exits 2 naming the bad option: %o', async (args, message) => {
    const { code, stderr } = await backtest(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('See: npm run backtest -- --help');
  });
});
