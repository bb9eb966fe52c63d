#!/usr/bin/env node
// `sensor-anomaly COMMAND [options]` (or `npx sensor-anomaly …` in the repository): the local
// tools as one command, run from any directory, with paths relative to where it is typed.
// Plain Node: it installs the locked dependencies on first use, then runs the TypeScript entry
// point with tsx's loader.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureDependencies, root } from '../scripts/ensure-dependencies.mjs';

const COMMANDS = {
  start: ['local/cli/start.ts', 'the local pipeline with a simulator and a live view'],
  produce: ['local/cli/produce.ts', 'send readings to a Kafka topic'],
  backtest: ['local/cli/backtest.ts', 'replay a recording through the detector'],
  rules: ['local/cli/rules.ts', 'validate, get, put, diff or delete the rules document'],
  feedback: [
    'local/cli/feedback.ts',
    'tell the detector an alert was not an anomaly, or one was missed',
  ],
  evaluate: ['local/cli/evaluate.ts', 'score the detectors on labelled data'],
  parity: ['local/cli/parity.ts', "compare the seed Flink job's output with ours on a recording"],
};

const USAGE = `Usage: sensor-anomaly COMMAND [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, [, what]]) => `  ${name.padEnd(10)} ${what}`)
  .join('\n')}

Each has its own help: sensor-anomaly COMMAND --help
`;

const [command, ...args] = process.argv.slice(2);
if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
  process.stdout.write(USAGE);
  process.exit(command === undefined ? 2 : 0);
}
const entry = COMMANDS[command];
if (entry === undefined) {
  process.stderr.write(
    `sensor-anomaly: unknown command "${command}" (one of ${Object.keys(COMMANDS).join(', ')})\nSee: sensor-anomaly --help\n`,
  );
  process.exit(2);
}

ensureDependencies();
const loader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const child = spawn(process.execPath, ['--import', loader, join(root, entry[0]), ...args], {
  stdio: 'inherit',
  env: { ...process.env, SENSOR_ANOMALY_COMMAND: `sensor-anomaly ${command}` },
});
// A terminal's Ctrl-C reaches the whole process group: the command handles it, this waits.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => {
  if (signal !== null) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else process.exit(code ?? 1);
});
