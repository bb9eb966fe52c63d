import '../flags/user-cwd.ts';
import { accessSync, constants, createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Kafka, logLevel } from 'kafkajs';
import { z } from 'zod';
import { ServiceUnavailableError, unavailable, waitForService } from '../embedded/reachable.ts';
import { helpLines, parseFlags, UsageError, usageProblems } from '../flags/parse-flags.ts';
import { PRODUCE_OPTION_DOCS, PRODUCE_SHORT_OPTIONS } from '../flags/produce-options.ts';
import { Progress } from '../flags/progress.ts';
import { type LineRecord, lineToRecord } from '../producer/line-records.ts';

const HELP = `Usage: npm run produce -- [options] [< readings.csv]

Sends sensor readings, one per line, to a Kafka topic (like kafka-console-producer), each
keyed by its sensor id. Reads --file, or standard input: type lines, or pipe a file.

${helpLines(PRODUCE_OPTION_DOCS, {}, PRODUCE_SHORT_OPTIONS)}
  -h, --help                  this help

Examples:
  npm run produce -- -b localhost:9092 -t sensor-data
  printf 'sensor_1,57.3\\nsensor_1,150.0\\n' | npm run produce -- --brokers 127.0.0.1:PORT
  npm run produce -- --file examples/readings.csv
`;

const schema = z.strictObject({
  brokers: z.string().trim().min(1),
  topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name'),
  file: z.string().min(1).optional(),
  format: z.enum(['csv', 'json']),
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
      ['brokers', 'topic', 'file', 'format'],
      ['no-key'],
      PRODUCE_SHORT_OPTIONS,
    );
    const env = process.env.KAFKA_BROKERS;
    const given = {
      brokers: values.brokers ?? (env === undefined || env === '' ? 'localhost:9092' : env),
      topic: values.topic ?? 'sensor-data',
      file: values.file,
      format: values.format ?? 'csv',
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

  const fromStdin = options.file === undefined || options.file === '-';
  if (!fromStdin) {
    try {
      accessSync(options.file as string, constants.R_OK);
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

  const interactive = fromStdin && process.stdin.isTTY === true;
  if (interactive)
    process.stderr.write(`Type readings (e.g. sensor_1,57.3), one per line; Ctrl-D to end.\n> `);
  const input = fromStdin ? process.stdin : createReadStream(options.file as string);
  input.once('error', (error: NodeJS.ErrnoException) => {
    process.stderr.write(`--file: cannot read ${options.file} (${error.code ?? error.message})\n`);
    process.exit(2);
  });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });

  // A terminal watching a large file being sent sees how far it is (never in a pipe).
  const progress = new Progress({
    stream: process.stderr,
    unit: 'records sent',
    ...(fromStdin ? {} : { totalBytes: statSync(options.file as string).size }),
  });
  let sent = 0;
  let warnings = 0;
  let buffer: LineRecord[] = [];
  const flush = async () => {
    if (buffer.length === 0) return;
    const records = buffer;
    buffer = [];
    await producer.send({
      topic: options.topic,
      messages: records.map((r) => ({ key: r.key, value: r.value })),
    });
    sent += records.length;
    if (!interactive)
      progress.tick(sent, 'bytesRead' in input ? Number(input.bytesRead) : undefined);
  };
  try {
    for await (const line of lines) {
      const { record, warning } = lineToRecord(line, options.format, !options.noKey);
      if (warning !== undefined) {
        warnings += 1;
        process.stderr.write(`warning: ${warning}\n`);
      }
      if (record !== null) buffer.push(record);
      if (interactive || buffer.length >= SEND_BATCH) await flush();
      if (interactive) process.stderr.write('> ');
    }
    await flush();
  } finally {
    progress.done();
    await producer.disconnect();
  }
  process.stderr.write(
    `${interactive ? '\n' : ''}sent ${sent} record(s) to ${options.topic} at ${brokers.join(',')}` +
      `${warnings > 0 ? ` (${warnings} without a key)` : ''}\n`,
  );
  return 0;
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
