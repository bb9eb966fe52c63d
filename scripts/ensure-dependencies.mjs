// Runs before `npm start` and `npm test` (plain Node, no dependencies of its own), so the
// README's two commands work on a fresh clone: installs the locked dependencies once.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(root, 'node_modules', '.package-lock.json');

if (!existsSync(marker)) {
  console.error('First run: installing the locked dependencies (npm ci)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // `npm ci`: exactly the committed lock, and it never rewrites it.
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    console.error('npm ci failed; run it yourself to see why, then try again.');
    process.exit(result.status ?? 1);
  }
}
