import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchResults, renderMarkdown } from './lib/report.ts';

const HELP = `Usage: npm run bench -- [--only PARTS] [--quick] [--no-write]

Measures and writes bench/results/latest.json and latest.md, and prints the tables. With
--only, the parts not run keep their figures from the previous latest.json (marked so).

  --only PARTS   comma-separated subset of: compute, dynamodb, fleet, e2e, memory, silence,
                 window-close, alert-storm (default: all)
  --quick        fewer repetitions, shorter streams and steps (about 2 minutes instead of about 5)
  --no-write     print only; leave bench/results/ alone
  -h, --help     this help

Profile the handler's compute: npx tsx bench/profile.ts [json|csv] [handler|floor]
`;

const PARTS = [
  'compute',
  'dynamodb',
  'fleet',
  'e2e',
  'memory',
  'silence',
  'window-close',
  'alert-storm',
] as const;
type Part = (typeof PARTS)[number];

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function parseOptions(argv: string[]): {
  parts: Part[];
  quick: boolean;
  write: boolean;
  help: boolean;
} {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean' },
      'no-write': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const parts = (values.only ?? PARTS.join(','))
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  for (const p of parts) {
    if (!(PARTS as readonly string[]).includes(p))
      throw new UsageError(`--only: unknown part ${JSON.stringify(p)} (${PARTS.join(', ')})`);
  }
  return {
    parts: PARTS.filter((p) => parts.includes(p)),
    quick: values.quick ?? false,
    write: !(values['no-write'] ?? false),
    help: values.help ?? false,
  };
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Each part runs in a fresh Node process (bench/part-main.ts): no shared heap, JIT or servers. */
async function runPart(part: Part, quick: boolean, scratch: string): Promise<unknown> {
  const out = join(scratch, `${part}.json`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--no-warnings',
        join(root, 'bench', 'part-main.ts'),
        part,
        JSON.stringify({ quick }),
        out,
      ],
      { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`bench part ${part} failed (exit ${code})`);
  return JSON.parse(readFileSync(out, 'utf8'));
}

async function main(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\nSee: npm run bench -- --help\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'bench-'));
  const loadAverageStart = loadavg()[0] ?? 0;
  const results: Record<string, unknown> = {};
  const secondsByPart: Record<string, number> = {};
  try {
    for (const part of options.parts) {
      process.stderr.write(`bench: ${part}…\n`);
      const t0 = performance.now();
      results[part] = await runPart(part, options.quick, scratch);
      secondsByPart[part] = Math.round((performance.now() - t0) / 1000);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const cpu = cpus();
  const resultsFile = join(root, 'bench', 'results', 'latest.json');
  const earlier = options.parts.length < PARTS.length ? readEarlier(resultsFile) : undefined;
  const carried: Record<string, unknown> = {};
  const carriedFrom: Record<string, string> = {};
  for (const part of PARTS) {
    if (part in results || earlier?.[part] === undefined) continue;
    carried[part] = earlier[part];
    carriedFrom[part] = earlier.carriedFrom?.[part] ?? earlier.generatedAt ?? 'an earlier run';
  }
  const bench: BenchResults = {
    generatedAt: new Date().toISOString(),
    command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
    quick: options.quick,
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model.trim() ?? 'unknown',
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      loadAverageStart: Math.round(loadAverageStart * 100) / 100,
      loadAverageEnd: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    },
    secondsByPart,
    carriedFrom,
    ...carried,
    ...results,
  };
  const markdown = renderMarkdown(bench);
  if (options.write) {
    mkdirSync(dirname(resultsFile), { recursive: true });
    writeFileSync(resultsFile, `${JSON.stringify(bench, null, 2)}\n`);
    writeFileSync(join(dirname(resultsFile), 'latest.md'), markdown);
  }
  process.stdout.write(markdown);
  return 0;
}

/** The previous results, for the parts a partial run leaves alone; none if absent or unreadable. */
function readEarlier(file: string): (Partial<BenchResults> & Record<string, unknown>) | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

process.exitCode = await main(process.argv.slice(2));
