import { z } from 'zod';
import { DEFAULT_ALLOWED_LATENESS_MS } from '../../functions/core/window-close.ts';
import { parseFlags, UsageError, usageProblems } from '../flags/parse-flags.ts';

export { UsageError };

export const PARITY_HELP = `Usage: npm run parity -- --input READINGS --flink-output FLINK.log [options]

Runs the seed Flink job's rule on a recording (each sliding window evaluated when it closes,
every reading against the whole window's average) and compares the lines it would print with
a Flink job's captured output: run us in shadow beside your Flink job before switching.
Prints how many lines match, and every line only one side printed. Exit 0 when the two agree,
1 when they differ, 2 on a usage error.

  --input FILE            the recording, as for npm run backtest (CSV with sensor_id,value,
                          timestamp; JSON lines; - for stdin)                 (required)
  --flink-output FILE     the Flink job's stdout (TaskManager .out file); lines other than
                          ANOMALY → … are ignored, a "1> " subtask prefix too (required)
  --flink-format F        python | java: how the job prints doubles           (default python)
                            python  the PyFlink job: values as 4-byte floats (Types.FLOAT())
                            java    the Java job: doubles, Double.toString
  --threshold X           the job's limit on |value − window average|         (default 50)
  --window-seconds S      window length                                       (default 10)
  --slide-seconds S       window slide                                        (default 5)
  --allowed-lateness-ms MS  how long after its end a window waits for late readings
                                                                  (default ${DEFAULT_ALLOWED_LATENESS_MS})
  --show N                differing lines listed per side                     (default 20)
  -h, --help              this help

The seed used processing time; a recording has event times. They agree when the recording's
timestamps are the times Flink read the records (Kafka LogAppendTime, or a producer close to
the broker). Lines near a window edge that differ are listed with their window so you can see
which side put the reading where.`;

const positive = z.coerce.number().finite().positive();

const schema = z.object({
  input: z.string().min(1),
  flinkOutput: z.string().min(1),
  flinkFormat: z.enum(['python', 'java']).default('python'),
  threshold: z.coerce.number().finite().nonnegative().default(50),
  windowSeconds: positive.default(10),
  slideSeconds: positive.default(5),
  allowedLatenessMs: z.coerce.number().int().nonnegative().default(DEFAULT_ALLOWED_LATENESS_MS),
  show: z.coerce.number().int().nonnegative().default(20),
  help: z.boolean().default(false),
});

export type ParityOptions = z.infer<typeof schema>;

export function parseParityOptions(argv: readonly string[]): ParityOptions {
  const given = parseFlags(argv, [
    'input',
    'flink-output',
    'flink-format',
    'threshold',
    'window-seconds',
    'slide-seconds',
    'allowed-lateness-ms',
    'show',
  ]);
  if (given.help === true) return { ...schema.partial().parse({}), help: true } as ParityOptions;
  for (const [key, flag, what] of [
    ['input', '--input FILE', 'the recording to run the seed rule on'],
    ['flinkOutput', '--flink-output FILE', "the Flink job's captured stdout"],
  ] as const) {
    if (given[key] === undefined) throw new UsageError(`${flag} is required: ${what}`);
  }
  const parsed = schema.safeParse(given);
  if (!parsed.success) throw new UsageError(usageProblems(parsed.error.issues, given));
  const o = parsed.data;
  const windowMs = Math.round(o.windowSeconds * 1000);
  const slideMs = Math.round(o.slideSeconds * 1000);
  if (windowMs % slideMs !== 0) {
    throw new UsageError(
      `--window-seconds: must be a whole multiple of --slide-seconds (got ${o.windowSeconds} and ${o.slideSeconds})`,
    );
  }
  return o;
}
