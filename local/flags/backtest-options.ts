import { z } from 'zod';
import { ConfigError, DEFAULT_DETECTION, validateConfig } from '../../functions/config.ts';
import type { DetectorSpec } from '../../functions/core/detectors.ts';
import type { FeedbackRecord } from '../../functions/core/feedback.ts';
import type { DetectionSettings } from '../../functions/process-batch.ts';
import { loadRulesFile } from '../../functions/rules-file.ts';
import { loadFeedbackFile } from '../backtest/feedback-file.ts';
import { INPUT_FORMATS, type InputOptions, TIME_UNITS } from '../backtest/input-format.ts';
import { PLOT_DEFAULT_MAX_SENSORS } from '../backtest/svg-plot.ts';
import { COLUMN_FLAG_NAMES, COLUMN_FLAGS_HELP, columnsFromFlags } from '../input/input-flags.ts';
import {
  checkWindowFlags,
  DETECTOR_FLAG_NAMES,
  DETECTOR_FLAGS_HELP,
  detectorFromFlags,
} from './detector-flags.ts';
import {
  EVALUATION_FLAG_NAMES,
  EVALUATION_FLAGS_HELP,
  evaluationFromFlags,
} from './evaluation-flags.ts';
import { parseFlags, UsageError } from './parse-flags.ts';

export { UsageError };

const DEFAULT_START = '2026-01-01T00:00:00Z';

export const BACKTEST_HELP = `Usage: npm run backtest -- --input FILE [options]

Replays a recorded stream through the detector's own use case (the code Lambda runs) with
an in-memory store, in batches as Lambda would get them, and prints per sensor how many
readings were anomalies. Try detectors and parameters here before deploying them.

Input (docs/input-formats.md)
  -i, --input FILE        recorded readings, gzip or not; - for stdin     (required)
  --format F              auto | csv | seed | jsonl | series | wide       (default auto)
                            csv     sensor_id,value,timestamp (header optional; by name)
                            seed    the Flink job's lines: sensor_id,value
                            jsonl   {"sensorId": "s1", "value": 1.5, "timestamp": ...}
                            series  timestamp,value of one sensor (needs --sensor-id)
                            wide    a time column and one column per sensor
                          delimiter (, ; tab) and a decimal comma are detected
${COLUMN_FLAGS_HELP}
  --sensor-id ID          sensor of a series file; key of JSON lines without one
  --time-unit U           auto | s | ms | us | ns: numeric timestamps     (default auto:
                            told apart by magnitude, the choice printed)
  --start ISO             event time of the first line without a timestamp
                                                            (default ${DEFAULT_START})
  --interval-ms MS        event-time step between lines without one      (default 1000)

Detection (as the deployed function's settings, docs/detectors.md)
${DETECTOR_FLAGS_HELP}
  --rules FILE            per-sensor rules file (its "default" replaces --detector);
                            - for stdin
  --feedback FILE         verdicts on alerts replayed at their times (docs/feedback.md):
                            npm run feedback -- list --json, or a JSON array
  --window-seconds S      window length, a multiple of the slide          (default 10)
  --slide-seconds S       window slide                                    (default 5)
  --alert-cooldown-seconds S  at most one notification per sensor per S   (default 60)
  --batch-size N          records per use-case call, as Lambda's batch    (default 500)
${EVALUATION_FLAGS_HELP}

Output
  -o, --output FILE.csv   one row per reading, in input order; - for stdout
  --plot FILE.svg|.html   values, baseline, limit band and anomalies per sensor;
                            - for an SVG on stdout
  --plot-max-sensors N    sensors plotted, the first ones seen            (default ${PLOT_DEFAULT_MAX_SENSORS})
  --flink-lines FILE      with --evaluation window-close: exactly the lines the seed Flink
                            job prints for this input, in its order; - for stdout
  -h, --help              this help
`;

const positiveInt = z.coerce.number().int().positive();
const nonNegative = z.coerce.number().finite().nonnegative();

const optionsSchema = z.object({
  input: z.string().min(1),
  format: z.enum(INPUT_FORMATS).default('auto'),
  sensorId: z.string().min(1).optional(),
  timeUnit: z.enum(TIME_UNITS).default('auto'),
  timeColumn: z.string().trim().min(1).optional(),
  sensorColumn: z.string().trim().min(1).optional(),
  valueColumn: z.string().trim().min(1).optional(),
  start: z
    .string()
    .refine(
      (s) => Number.isFinite(Date.parse(s)),
      'an ISO-8601 date-time, e.g. 2026-01-01T00:00:00Z',
    )
    .default(DEFAULT_START),
  intervalMs: z.coerce.number().int().min(0).default(1000),
  rules: z.string().min(1).optional(),
  feedback: z.string().min(1).optional(),
  windowSeconds: positiveInt.default(DEFAULT_DETECTION.windowMs / 1000),
  slideSeconds: positiveInt.default(DEFAULT_DETECTION.slideMs / 1000),
  alertCooldownSeconds: nonNegative.default(DEFAULT_DETECTION.alertCooldownMs / 1000),
  batchSize: positiveInt.max(100_000).default(500),
  output: z.string().min(1).optional(),
  plot: z
    .string()
    .regex(/^-$|\.(svg|html?)$/i, 'a file name ending in .svg or .html, or - for an SVG on stdout')
    .optional(),
  plotMaxSensors: positiveInt.max(1000).default(PLOT_DEFAULT_MAX_SENSORS),
  flinkLines: z.string().min(1).optional(),
  help: z.boolean().default(false),
});

export interface BacktestOptions {
  readonly help: boolean;
  readonly inputPath: string;
  readonly input: InputOptions;
  readonly detection: DetectionSettings;
  readonly batchSize: number;
  /** Verdicts replayed at their times (--feedback). @default none */
  readonly feedback?: readonly FeedbackRecord[];
  readonly outputPath?: string;
  readonly plotPath?: string;
  readonly plotMaxSensors: number;
  /** Where the seed job's lines go (window-close evaluation). */
  readonly flinkLinesPath?: string;
}

const STRING_OPTIONS = [
  'input',
  'format',
  'sensor-id',
  'time-unit',
  'start',
  'interval-ms',
  'rules',
  'feedback',
  'window-seconds',
  'slide-seconds',
  'alert-cooldown-seconds',
  'batch-size',
  'output',
  'plot',
  'plot-max-sensors',
  'flink-lines',
  ...COLUMN_FLAG_NAMES,
  ...EVALUATION_FLAG_NAMES,
] as const;

/** As kcat users expect: -i input, -o output. */
const SHORT_OPTIONS = { i: 'input', o: 'output' } as const;

const flag = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Parses argv into backtest settings; a UsageError names each bad option and its value. */
export function parseBacktestOptions(argv: readonly string[]): BacktestOptions {
  const camel = parseFlags(argv, [...STRING_OPTIONS, ...DETECTOR_FLAG_NAMES], [], SHORT_OPTIONS);
  if (camel.help === true) return helpOnly();
  if (camel.input === undefined)
    throw new UsageError('--input: required (a file of recorded readings, or - for stdin)');
  const parsed = optionsSchema.safeParse(camel);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      return `${flag(key)}: ${issue.message} (got ${JSON.stringify(camel[key])})`;
    });
    throw new UsageError(problems.join('\n'));
  }
  const o = parsed.data;
  if (o.input === '-' && o.rules === '-')
    throw new UsageError('--input - and --rules -: only one of them can read standard input');
  if (o.feedback === '-' && (o.input === '-' || o.rules === '-'))
    throw new UsageError(
      `--${o.input === '-' ? 'input' : 'rules'} - and --feedback -: only one of them can read standard input`,
    );
  if (o.output === '-' && o.plot === '-')
    throw new UsageError('--output - and --plot -: only one of them can write standard output');
  const defaultDetector = detectorFromFlags(camel);
  let rules: DetectionSettings['rules'] = [];
  let fileDefault: DetectorSpec | undefined;
  let readingFields: DetectionSettings['readingFields'];
  let alerting: DetectionSettings['alerting'];
  if (o.rules !== undefined) {
    const file = loadRulesFile(o.rules);
    rules = file.rules;
    fileDefault = file.defaultDetector;
    readingFields = file.readingFields;
    // Maintenance windows apply to a replay as deployed: muted readings teach nothing.
    alerting = file.alerting;
    if (fileDefault !== undefined && camel.detector !== undefined) {
      throw new UsageError(
        `--detector ${String(camel.detector)} and the "default" of ${o.rules}: choose one`,
      );
    }
  }
  if (o.format === 'series' && o.sensorId === undefined) {
    throw new UsageError('--format series: needs --sensor-id (the file has no sensor column)');
  }
  checkWindowFlags(o.windowSeconds, o.slideSeconds);
  const evaluation = evaluationFromFlags(camel, fileDefault ?? defaultDetector, rules.length > 0);
  if (o.flinkLines !== undefined && evaluation.evaluation !== 'window-close')
    throw new UsageError(
      "--flink-lines: needs --evaluation window-close (the seed job prints each window's lines when it closes)",
    );
  const dashes = [o.output, o.plot, o.flinkLines].filter((p) => p === '-').length;
  if (dashes > 1)
    throw new UsageError(
      'only one of --output, --plot and --flink-lines can write standard output (-)',
    );
  const detection: DetectionSettings = {
    ...evaluation,
    slideMs: o.slideSeconds * 1000,
    windowMs: o.windowSeconds * 1000,
    defaultDetector: fileDefault ?? defaultDetector,
    rules,
    alertCooldownMs: o.alertCooldownSeconds * 1000,
    retentionMarginSeconds: DEFAULT_DETECTION.retentionMarginSeconds,
    ...(readingFields === undefined ? {} : { readingFields }),
    ...(alerting === undefined ? {} : { alerting }),
  };
  try {
    validateConfig({ ...detection, tableName: '-', topicArn: '-', writeConcurrency: 1 });
  } catch (error) {
    if (error instanceof ConfigError)
      throw new UsageError(error.message.replace(/ \(SLIDE_SECONDS.*\)$/, ''));
    throw error;
  }
  return {
    help: false,
    inputPath: o.input,
    input: {
      format: o.format,
      timeUnit: o.timeUnit,
      ...(o.sensorId === undefined ? {} : { sensorId: o.sensorId }),
      startMs: Date.parse(o.start),
      intervalMs: o.intervalMs,
      columns: columnsFromFlags(o),
    },
    detection,
    batchSize: o.batchSize,
    ...(o.feedback === undefined ? {} : { feedback: loadFeedbackFile(o.feedback) }),
    ...(o.output === undefined ? {} : { outputPath: o.output }),
    ...(o.plot === undefined ? {} : { plotPath: o.plot }),
    plotMaxSensors: o.plotMaxSensors,
    ...(o.flinkLines === undefined ? {} : { flinkLinesPath: o.flinkLines }),
  };
}

function helpOnly(): BacktestOptions {
  return {
    help: true,
    inputPath: '',
    input: { format: 'auto', timeUnit: 'auto', startMs: 0, intervalMs: 0 },
    detection: { ...DEFAULT_DETECTION, rules: [] },
    batchSize: 1,
    plotMaxSensors: 1,
  };
}
