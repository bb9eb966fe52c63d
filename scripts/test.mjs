#!/usr/bin/env node
// `npm test`: the type check and the test suite side by side. The suite's first minutes are
// files that wait on services and clocks, which leave a core idle; the type check (about 20 s
// of CPU) runs in that time instead of before it. Arguments go to vitest
// (`npm test -- test/unit/core.test.ts`). The exit status is the first failure's.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => join(root, 'node_modules', '.bin', name);

const typeCheck = new Promise((resolve) => {
  let output = '';
  const child = spawn(bin('tsc'), ['--noEmit', '-p', root], { cwd: root });
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  child.on('error', (error) => resolve({ code: 1, output: `${error.message}\n` }));
  child.on('close', (code) => resolve({ code: code ?? 1, output }));
});

const suite = new Promise((resolve) => {
  const child = spawn(bin('vitest'), ['run', ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
  });
  child.on('error', () => resolve(1));
  child.on('close', (code) => resolve(code ?? 1));
});

const [checked, tested] = await Promise.all([typeCheck, suite]);
if (checked.code !== 0) {
  process.stderr.write(`\ntype check failed (tsc --noEmit):\n${checked.output}`);
} else process.stdout.write('\ntype check passed (tsc --noEmit)\n');
process.exit(tested !== 0 ? tested : checked.code);
