import { writeFileSync } from 'node:fs';
import { runAlertStorm } from './parts/alert-storm.ts';
import { runCompute } from './parts/compute.ts';
import { runDynamoDb } from './parts/dynamodb.ts';
import { runEndToEnd } from './parts/e2e.ts';
import { runFleet } from './parts/fleet.ts';
import { runMemory } from './parts/memory.ts';
import { runSilence } from './parts/silence.ts';
import { runWindowClose } from './parts/window-close.ts';

/**
 * One benchmark part in its own process (started by bench/run.ts), so no part inherits
 * another's heap, JIT state or servers. Usage: part-main.ts <part> <options-json> <out-file>.
 */
const PARTS = {
  compute: runCompute,
  dynamodb: runDynamoDb,
  e2e: runEndToEnd,
  fleet: runFleet,
  memory: runMemory,
  silence: runSilence,
  'window-close': runWindowClose,
  'alert-storm': runAlertStorm,
} as const;

const [part, optionsJson, outFile] = process.argv.slice(2);
const run = PARTS[part as keyof typeof PARTS];
if (run === undefined || optionsJson === undefined || outFile === undefined) {
  process.stderr.write(
    `usage: part-main.ts <${Object.keys(PARTS).join('|')}> <options-json> <out-file>\n`,
  );
  process.exit(2);
}
const result = await run(JSON.parse(optionsJson));
writeFileSync(outFile, JSON.stringify(result));
// Servers and SDK sockets of a part must not keep the process alive once its result is out.
process.exit(0);
