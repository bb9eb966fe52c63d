import '../flags/user-cwd.ts';
import { accessSync, constants } from 'node:fs';
import { createInterface } from 'node:readline';
import { Kafka, logLevel } from 'kafkajs';
import { z } from 'zod';
import {
  INPUT_FORMATS,
  InputFormatError,
  type InputOptions,
  LineReader,
  TIME_UNITS,
} from '../backtest/input-format.ts';
import { ServiceUnavailableError, unavailable, waitForService } from '../embedded/reachable.ts';
import { helpLines, parseFlags, UsageError, usageProblems } from '../flags/parse-flags.ts';
import { PRODUCE_OPTION_DOCS, PRODUCE_SHORT_OPTIONS } from '../flags/produce-options.ts';
import { Progress } from '../flags/progress.ts';
import { COLUMN_FLAG_NAMES, columnsFromFlags } from '../input/input-flags.ts';
import { nothingRead } from '../input/nothing-read.ts';
import { InputOpenError, openInput } from '../input/open-input.ts';

const HELP = `Usage: npm run produce -- [options] [< readings.csv]

Sends sensor readings to a Kafka topic (like kafka-console-producer), each keyed by its
sensor id. Reads --file or standard input (type lines, or pipe a file) with the reader of
npm run backtest: headers, comments and blank lines are not sent, historian and spreadsheet
exports are read by column name, and each reading goes as a record the detector reads the
same way (a sensor_1,57.3 line as typed, anything else as {"sensorId","value","timestamp"}).

${helpLines(PRODUCE_OPTION_DOCS, {}, PRODUCE_SHORT_OPTIONS)}
  -h, --help                  this help

Examples:
  npm run produce -- -b localhost:9092 -t sensor-data
  printf 'sensor_1,57.3\\nsensor_1,150.0\\n' | npm run produce -- --brokers 127.0.0.1:PORT
  npm run produce -- --file examples/readings.csv
  npm run produce -- --file export.csv.gz --sensor-column TagName --value-column Val
`;

const schema = z.strictObject({
  brokers: z.string().trim().min(1),
  topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name'),
  file: z.string().min(1).optional(),
  format: z.enum(INPUT_FORMATS),
  timeUnit: z.enum(TIME_UNITS),
  sensorId: z.string().min(1).optional(),
  timeColumn: z.string().optional(),
  sensorColumn: z.string().optional(),
  valueColumn: z.string().optional(),
  noKey: z.boolean(),
  help: z.boolean(),
});

/** Records per send when the input is a file or a pipe; interactive lines go one by one. */
const SEND_BATCH = 500;

async function main(argv: string[]): Promise<number> {
  let options: z.infer<typeof schema>;
  try {
    const values = parseFlags(
      argv,
      ['brokers', 'topic', 'file', 'format', 'time-unit', 'sensor-id', ...COLUMN_FLAG_NAMES],
      ['no-key'],
      PRODUCE_SHORT_OPTIONS,
    );
    const env = process.env.KAFKA_BROKERS;
    const given = {
      brokers: values.brokers ?? (env === undefined || env === '' ? 'localhost:9092' : env),
      topic: values.topic ?? 'sensor-data',
      file: values.file,
      format: values.format === 'json' ? 'jsonl' : (values.format ?? 'auto'),
      timeUnit: values.timeUnit ?? 'auto',
      sensorId: values.sensorId,
      timeColumn: values.timeColumn,
      sensorColumn: values.sensorColumn,
      valueColumn: values.valueColumn,
      noKey: values.noKey ?? false,
      help: values.help ?? false,
    };
    const parsed = schema.safeParse(given);
    if (!parsed.success) throw new UsageError(usageProblems(parsed.error.issues, given));
    options = parsed.data;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\nSee: npm run produce -- --help\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  // A file that is not there is said before any broker is tried (which can take a while).
  if (options.file !== undefined && options.file !== '-') {
    try {
      accessSync(options.file, constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      process.stderr.write(
        `--file: cannot read ${options.file} (${code})\nSee: npm run produce -- --help\n`,
      );
      return 2;
    }
  }

  const brokers = options.brokers.split(',').map((b) => b.trim());
  const kafka = new Kafka({
    clientId: 'sensor-producer',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  });
  // Neither idempotent nor transactional: librdkafka's mock cluster supports neither.
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  const spec = {
    service: 'Kafka',
    address: brokers.join(','),
    hint: 'start a broker (e.g. `docker compose up -d redpanda redpanda-init`), or give --brokers the address `npm start` prints',
  };
  try {
    await waitForService(spec, brokers, 5000);
    await producer.connect();
  } catch (error) {
    const message =
      error instanceof ServiceUnavailableError
        ? error.message
        : unavailable(spec, (error as Error).message).message;
    process.stderr.write(`npm run produce: ${message}\n`);
    return 1;
  }

  const fromStdin = options.file === undefined || options.file === '-';
  const interactive = fromStdin && process.stdin.isTTY === true;
  if (interactive)
    process.stderr.write(`Type readings (e.g. sensor_1,57.3), one per line; Ctrl-D to end.\n> `);
  const path = options.file ?? '-';
  // A terminal watching a large file being sent sees how far it is (never in a pipe).
  const progress = new Progress({ stream: process.stderr, unit: 'records sent' });
  const reader = new LineReader(readerOptions(options));

  let sent = 0;
  let unkeyed = 0;
  let buffer: { key: string | null; value: string }[] = [];
  const flush = async () => {
    if (buffer.length === 0) return;
    const records = buffer;
    buffer = [];
    await producer.send({ topic: options.topic, messages: records });
    sent += records.length;
    if (!interactive) progress.tick(sent);
  };
  const stats = { records: 0, readings: 0, rejected: 0 };
  try {
    const input = interactive
      ? {
          lines: createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY }),
          empty: false,
        }
      : await openInput(path);
    let lineNumber = 0;
    for await (const line of input.lines) {
      lineNumber += 1;
      const read = reader.read(line, lineNumber);
      if (read !== null && 'problem' in read) {
        // Sent as it stands: the detector rejects it, as the backtest counts it.
        process.stderr.write(`warning: line ${lineNumber}: ${read.problem}\n`);
        buffer.push({ key: null, value: read.line });
        stats.rejected += 1;
      } else if (read !== null) {
        for (const r of read) {
          const key = options.noKey ? null : r.sensorId;
          if (!options.noKey && key === null) unkeyed += 1;
          buffer.push({ key, value: r.original ?? r.value });
          stats.readings += 1;
        }
      }
      stats.records = stats.readings + stats.rejected;
      if (interactive || buffer.length >= SEND_BATCH) await flush();
      if (interactive) process.stderr.write('> ');
    }
    await flush();
    const nothing = interactive
      ? null
      : nothingRead(
          { ...stats, rejectedByReason: {}, rejectedExamples: [], columnsSeen: reader.columnsSeen },
          input.empty,
        );
    if (nothing !== null) {
      process.stderr.write(`npm run produce: ${path === '-' ? 'stdin' : path}: ${nothing}\n`);
      return 2;
    }
  } catch (error) {
    if (!(error instanceof InputFormatError || error instanceof InputOpenError)) throw error;
    process.stderr.write(`npm run produce: ${path === '-' ? 'stdin' : path}: ${error.message}\n`);
    return 2;
  } finally {
    progress.done();
    await producer.disconnect();
  }
  for (const note of reader.notes()) process.stderr.write(`${note}\n`);
  process.stderr.write(
    `${interactive ? '\n' : ''}sent ${sent} record(s) to ${options.topic} at ${brokers.join(',')}` +
      `${unkeyed > 0 ? ` (${unkeyed} without a key)` : ''}\n`,
  );
  return 0;
}

/** The reader's settings: live readings take the record's time when they have none. */
function readerOptions(options: z.infer<typeof schema>): InputOptions {
  return {
    format: options.format,
    timeUnit: options.timeUnit,
    ...(options.sensorId === undefined ? {} : { sensorId: options.sensorId }),
    startMs: 0,
    intervalMs: 0,
    columns: columnsFromFlags(options),
  };
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`produce failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
