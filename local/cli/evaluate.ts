import '../flags/user-cwd.ts';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  ADAPTIVE_DEFAULTS,
  type DetectorSpec,
  EWMA_DEFAULTS,
  ROBUST_DEFAULTS,
  ZSCORE_DEFAULTS,
} from '../../functions/core/detectors.ts';
import { backtestCandidate, type Candidate, windowedGaussian } from '../evaluate/candidates.ts';
import { evaluateCandidates, type Grouping } from '../evaluate/evaluate.ts';
import { evaluateFeedback } from '../evaluate/feedback-eval.ts';
import { generatedCorpus, generatedFamily } from '../evaluate/generated.ts';
import {
  DatasetError,
  type Experiment,
  labelRuns,
  readLabelledCsvs,
  readSkab,
} from '../evaluate/labelled-data.ts';
import { type CorpusReport, formatMarkdown, formatText, toJson } from '../evaluate/report.ts';
import { parseFlags, UsageError } from '../flags/parse-flags.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** ../shared/datasets/skab beside the repository (or beside the folder of a git worktree). */
const DEFAULT_SKAB = [
  resolve(REPO, '../shared/datasets/skab'),
  resolve(REPO, '../../shared/datasets/skab'),
];
const DEFAULT_SEED = 20261201;
/** The committed results: written only with --write-results, and only with SKAB in them. */
const RESULTS_DIR = join(REPO, 'bench/results');

export const EVALUATE_HELP = `Usage: npm run evaluate -- [options]

Scores the detectors on labelled series, through the backtest (the deployed function's own
use case): NAB scores (standard, reward low FP, reward low FN) of the score column and
event-level precision, recall and F1 of the anomaly column, beside two baselines (the
windowed Gaussian, and the seed's threshold rule). Prints a table per corpus; with
--write-results, also writes bench/results/evaluation.md and .json (the committed results).
docs/evaluate.md explains every figure.

Data
  --skab DIR              the SKAB data set (valve1/, valve2/, other/), read in place
                            (default ../shared/datasets/skab beside the repository)
  --csv PATH              a timestamp,value,label CSV, or a folder of them (label 1 = anomaly)
  --corpus LIST           which corpora: skab, generated, csv   (default skab,generated; csv with --csv)
  --seed N                seed of the generated corpus           (default ${DEFAULT_SEED})
  --copies N              generated series per shape             (default 3)

Detectors
  --detectors LIST        threshold, zscore, ewma, adaptive, robust, gaussian  (default all)
  --gaussian-window N     readings in the windowed Gaussian's window   (default 6400)
  --feedback-first N      feedback table: a not-anomaly verdict on the first N false alarms
                            of each sensor, false alarms before and after (docs/feedback.md);
                            0 leaves it out                        (default 3)

Output
  --write-results         write evaluation.md and .json (the committed results: run it on
                            the full data, SKAB included)
  --output-dir DIR        where --write-results writes them       (default bench/results)
  -h, --help              this help
`;

const CANDIDATES = ['threshold', 'zscore', 'ewma', 'adaptive', 'robust', 'gaussian'] as const;
const CORPORA = ['skab', 'generated', 'csv'] as const;

const list = <T extends string>(allowed: readonly T[]) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
    )
    .pipe(z.array(z.enum(allowed as [T, ...T[]])).min(1));

const optionsSchema = z.strictObject({
  skab: z.string().min(1).optional(),
  csv: z.string().min(1).optional(),
  corpus: list(CORPORA).optional(),
  seed: z.coerce.number().int().default(DEFAULT_SEED),
  copies: z.coerce.number().int().min(1).max(50).default(3),
  detectors: list(CANDIDATES).default([...CANDIDATES]),
  gaussianWindow: z.coerce.number().int().min(2).default(6400),
  feedbackFirst: z.coerce.number().int().min(0).max(1000).default(3),
  outputDir: z.string().min(1).default(RESULTS_DIR),
  writeResults: z.boolean().default(false),
  help: z.boolean().default(false),
});

export type EvaluateOptions = z.infer<typeof optionsSchema>;

export function parseEvaluateOptions(argv: readonly string[]): EvaluateOptions {
  const camel = parseFlags(
    argv,
    [
      'skab',
      'csv',
      'corpus',
      'seed',
      'copies',
      'detectors',
      'gaussian-window',
      'feedback-first',
      'output-dir',
    ],
    ['write-results'],
  );
  const parsed = optionsSchema.safeParse(camel);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      return `${flag}: ${issue.message} (got ${JSON.stringify(camel[key])})`;
    });
    throw new UsageError(problems.join('\n'));
  }
  return parsed.data;
}

/** The product detectors, with their defaults, by the names the table gives them. */
const PRODUCT: Record<Exclude<(typeof CANDIDATES)[number], 'gaussian'>, [string, DetectorSpec]> = {
  threshold: ['threshold 50 (the seed’s rule)', { kind: 'threshold', threshold: 50 }],
  zscore: ['zscore', { kind: 'zscore', ...ZSCORE_DEFAULTS }],
  ewma: ['ewma', { kind: 'ewma', ...EWMA_DEFAULTS }],
  adaptive: ['adaptive', { kind: 'adaptive', ...ADAPTIVE_DEFAULTS }],
  robust: ['robust', { kind: 'robust', ...ROBUST_DEFAULTS }],
};

/** The product detectors asked for (feedback applies to them, not to the baselines). */
export function productDetectors(options: EvaluateOptions) {
  return options.detectors
    .filter((d) => d !== 'gaussian')
    .map((d) => {
      const [name, spec] = PRODUCT[d as keyof typeof PRODUCT];
      return { name: name.replace(/ \(.*/, ''), spec };
    });
}

/** The detectors compared, product ones through the backtest with their defaults. */
export function candidatesFor(options: EvaluateOptions): Candidate[] {
  return options.detectors.map((d) =>
    d === 'gaussian'
      ? windowedGaussian(options.gaussianWindow, 3)
      : backtestCandidate(...PRODUCT[d]),
  );
}

/** The generated corpus is also reported per fault family and per scale and interval. */
const GENERATED_GROUPINGS: Grouping[] = [
  { title: 'fault family', of: (e) => generatedFamily(e.name) },
  { title: 'scale and interval', of: (e) => e.group },
];

function describe(experiments: readonly Experiment[]): string {
  const sensors = experiments.reduce((n, e) => n + e.sensors.length, 0);
  const events = experiments.reduce((n, e) => n + labelRuns(e.labels).length, 0);
  const rows = experiments.reduce((n, e) => n + e.labels.length, 0);
  return `${experiments.length} labelled series (${sensors} sensor columns, ${rows} rows), ${events} events.`;
}

async function main(argv: readonly string[]): Promise<number> {
  let options: EvaluateOptions;
  try {
    options = parseEvaluateOptions(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\nSee: npm run evaluate -- --help\n`);
      return 2;
    }
    throw error;
  }
  if (options.help) {
    process.stdout.write(EVALUATE_HELP);
    return 0;
  }
  const corpora = options.corpus ?? [
    'skab',
    'generated',
    ...(options.csv === undefined ? [] : (['csv'] as const)),
  ];
  const data: { corpus: string; experiments: Experiment[]; groupings?: Grouping[] }[] = [];
  try {
    for (const corpus of corpora) {
      if (corpus === 'skab') {
        const dir =
          options.skab === undefined
            ? (DEFAULT_SKAB.find((d) => existsSync(d)) ?? (DEFAULT_SKAB[0] as string))
            : resolve(options.skab);
        try {
          data.push({ corpus: 'SKAB', experiments: readSkab(dir) });
        } catch (error) {
          // Missing by default only skips it; asked for by --skab or --corpus, it is an error.
          if (!(error instanceof DatasetError) || options.skab !== undefined || options.corpus)
            throw error;
          process.stderr.write(`${error.message}; skipping SKAB\n`);
        }
      } else if (corpus === 'generated') {
        data.push({
          corpus: `generated (seed ${options.seed}, ${options.copies} per shape)`,
          experiments: generatedCorpus({ seed: options.seed, copies: options.copies }),
          groupings: GENERATED_GROUPINGS,
        });
      } else {
        if (options.csv === undefined) throw new UsageError('--corpus csv: needs --csv PATH');
        data.push({ corpus: `CSV (${options.csv})`, experiments: readLabelledCsvs(options.csv) });
      }
    }
  } catch (error) {
    if (error instanceof DatasetError || error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (data.length === 0) {
    process.stderr.write('nothing to evaluate\n');
    return 2;
  }
  if (
    options.writeResults &&
    resolve(options.outputDir) === RESULTS_DIR &&
    !data.some((d) => d.corpus === 'SKAB')
  ) {
    process.stderr.write(
      '--write-results: the committed bench/results/evaluation.md has the SKAB table, and this run has no SKAB data; give --skab DIR, or --output-dir elsewhere\n',
    );
    return 2;
  }
  const candidates = candidatesFor(options);
  const reports: CorpusReport[] = [];
  for (const { corpus, experiments, groupings } of data) {
    process.stderr.write(`${corpus}: `);
    const results = await evaluateCandidates(
      experiments,
      candidates,
      (name) => process.stderr.write(`${name} … `),
      groupings,
    );
    const product = productDetectors(options);
    const feedback =
      options.feedbackFirst === 0 || product.length === 0
        ? undefined
        : await evaluateFeedback(experiments, product, options.feedbackFirst, (name) =>
            process.stderr.write(`feedback ${name} … `),
          );
    process.stderr.write('done\n');
    reports.push({
      corpus,
      about: describe(experiments),
      results,
      ...(feedback === undefined ? {} : { feedback }),
    });
  }
  process.stdout.write(`${formatText(reports)}\n`);
  if (options.writeResults) {
    const command = ['npm run evaluate', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' ');
    // Paths in the written report are relative to the repository, whoever runs it where.
    const relative = reports.map((r) => ({
      ...r,
      corpus: r.corpus.replace(REPO, '.').replace(resolve(REPO, '..'), '..'),
    }));
    mkdirSync(options.outputDir, { recursive: true });
    const md = join(options.outputDir, 'evaluation.md');
    writeFileSync(md, formatMarkdown(relative, command));
    writeFileSync(join(options.outputDir, 'evaluation.json'), toJson(relative, command));
    process.stdout.write(`wrote ${md} and evaluation.json\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
