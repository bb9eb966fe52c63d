#!/usr/bin/env node
// `npx cdk …` in this repository runs the CDK CLI the lock pins (aws-cdk 2.1148.x, which reads
// this aws-cdk-lib's output). Without this bin, `npx cdk` on a fresh clone finds no
// node_modules/.bin/cdk and offers to download the registry's `cdk` package instead, a
// different CLI. npm exec prefers a bin of the project's own package.json by that name.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureDependencies, root } from '../scripts/ensure-dependencies.mjs';

ensureDependencies();
const child = spawn(
  process.execPath,
  [join(root, 'node_modules/aws-cdk/bin/cdk'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    env: { CDK_DISABLE_CLI_TELEMETRY: 'true', ...process.env },
  },
);
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => {
  if (signal !== null) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else process.exit(code ?? 1);
});
