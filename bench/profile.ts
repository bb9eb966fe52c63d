import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADAPTIVE_DEFAULTS } from '../functions/core/adaptive.ts';
import type { DetectorSpec } from '../functions/core/detectors.ts';
import { EWMA_DEFAULTS } from '../functions/core/ewma.ts';
import { parseReading } from '../functions/core/parse-reading.ts';
import { recordsFromEvent } from '../functions/kafka-event.ts';
import { cloneStore, computeFixture, processor } from './parts/compute.ts';
import type { ReadingFormat } from './workload.ts';

/**
 * CPU profile of the compute benchmark's batch: `npx tsx bench/profile.ts [json|csv]
 * [handler|floor] [iterations] [threshold|ewma|adaptive]` (the detector: the deploy default,
 * threshold, unless named). Prints the functions with the most self time and writes the
 * .cpuprofile (open it in Chrome DevTools) to bench/results/profiles/.
 */
const format = (process.argv[2] ?? 'json') as ReadingFormat;
const target = process.argv[3] ?? 'handler';
const iterations = Number(process.argv[4] ?? 200);
const DETECTORS: Readonly<Record<string, DetectorSpec>> = {
  threshold: { kind: 'threshold', threshold: 50 },
  ewma: { kind: 'ewma', ...EWMA_DEFAULTS },
  adaptive: { kind: 'adaptive', ...ADAPTIVE_DEFAULTS },
};
const detectorName = process.argv[5] ?? 'threshold';
const detector = DETECTORS[detectorName];
if (detector === undefined) {
  process.stderr.write(`unknown detector ${detectorName}: use threshold, ewma or adaptive\n`);
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const { event, nowMs, primed } = await computeFixture(format, detector);
const once = async () => {
  if (target === 'floor') {
    for (const r of recordsFromEvent(event)) parseReading(r);
    return;
  }
  await processor(cloneStore(primed), nowMs, detector)(recordsFromEvent(event));
};
for (let i = 0; i < 20; i += 1) await once();

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
const t0 = performance.now();
for (let i = 0; i < iterations; i += 1) await once();
const elapsedMs = performance.now() - t0;
const { profile } = await session.post('Profiler.stop');
session.disconnect();

const dir = join(root, 'bench', 'results', 'profiles');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${target}-${format}-${detectorName}.cpuprofile`);
writeFileSync(file, JSON.stringify(profile));

// Self time per function, from the sample counts and their time deltas.
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<string, number>();
let totalUs = 0;
profile.samples?.forEach((id, i) => {
  const node = byId.get(id);
  const dt = profile.timeDeltas?.[i] ?? 0;
  if (node === undefined) return;
  const { functionName, url, lineNumber } = node.callFrame;
  const where =
    url === ''
      ? ''
      : ` ${relative(root, url.startsWith('file:') ? fileURLToPath(url) : url)}:${lineNumber + 1}`;
  const key = `${functionName || '(anonymous)'}${where}`;
  selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
  totalUs += dt;
});
process.stdout.write(
  `${target} ${format} ${detectorName}: ${iterations} batches in ${elapsedMs.toFixed(0)} ms (${(elapsedMs / iterations).toFixed(2)} ms/batch)\n` +
    `profile: ${relative(process.cwd(), file)}\nself time:\n`,
);
for (const [key, us] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  process.stdout.write(`${((us / totalUs) * 100).toFixed(1).padStart(6)}%  ${key}\n`);
}
