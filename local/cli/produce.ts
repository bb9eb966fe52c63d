import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { z } from 'zod';
import { type LineRecord, lineToRecord } from '../producer/line-records.ts';

const HELP = `Usage: npm run produce -- [options] [< readings.csv]

Sends sensor readings, one per line, to a Kafka topic (like kafka-console-producer).
Reads --file, or standard input: type lines interactively, or pipe a file.

  --brokers LIST     bootstrap brokers (default: KAFKA_BROKERS, else localhost:9092)
  --topic NAME       topic (default sensor-data)
  --file F           read lines from F instead of standard input
  --format F         csv (sensor_1,57.3[,timestamp]) | json ({"sensorId":…,"value":…}) (default csv)
  --key-by-sensor    key each record by its sensor id (keeps a sensor's readings in order)
  -h, --help         this help

Examples:
  npm run produce -- --brokers localhost:9092 --topic sensor-data --key-by-sensor
  printf 'sensor_1,57.3\\nsensor_1,150.0\\n' | npm run produce -- --key-by-sensor
  npm run produce -- --file readings.jsonl --format json --key-by-sensor
`;

const schema = z.strictObject({
  brokers: z.string().trim().min(1),
  topic: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name'),
  file: z.string().min(1).optional(),
  format: z.enum(['csv', 'json']),
  keyBySensor: z.boolean(),
  help: z.boolean(),
});

/** Records per send when the input is a file or a pipe; interactive lines go one by one. */
const SEND_BATCH = 500;

async function main(argv: string[]): Promise<number> {
  let options: z.infer<typeof schema>;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        brokers: { type: 'string' },
        topic: { type: 'string' },
        file: { type: 'string' },
        format: { type: 'string' },
        'key-by-sensor': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const env = process.env.KAFKA_BROKERS;
    options = schema.parse({
      brokers: values.brokers ?? (env === undefined || env === '' ? 'localhost:9092' : env),
      topic: values.topic ?? 'sensor-data',
      file: values.file,
      format: values.format ?? 'csv',
      keyBySensor: values['key-by-sensor'] ?? false,
      help: values.help ?? false,
    });
  } catch (error) {
    const message =
      error instanceof z.ZodError
        ? error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('\n')
        : (error as Error).message;
    process.stderr.write(`${message}\nSee: npm run produce -- --help\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
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
  await producer.connect();

  const interactive = options.file === undefined && process.stdin.isTTY === true;
  if (interactive)
    process.stderr.write(`Type readings (e.g. sensor_1,57.3), one per line; Ctrl-D to end.\n> `);
  const input = options.file === undefined ? process.stdin : createReadStream(options.file);
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });

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
  };
  try {
    for await (const line of lines) {
      const { record, warning } = lineToRecord(line, options.format, options.keyBySensor);
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
