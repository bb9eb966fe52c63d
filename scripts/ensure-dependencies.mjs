// Runs before every `npm run` script and every `sensor-anomaly` / `npx cdk` command (plain Node,
// no dependencies of its own), so each works on a fresh clone: installs the locked
// dependencies once.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(root, 'node_modules', '.package-lock.json');

/** Installs the committed lock with `npm ci` unless node_modules already holds it. */
export function ensureDependencies() {
  if (existsSync(marker)) return;
  console.error('First run: installing the locked dependencies (npm ci)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // `npm ci`: exactly the committed lock, and it never rewrites it.
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: ['ignore', process.stderr, 'inherit'],
  });
  if (result.status !== 0) {
    console.error('npm ci failed; run it yourself to see why, then try again.');
    process.exit(result.status ?? 1);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureDependencies();
}
