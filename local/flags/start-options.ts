import { z } from 'zod';
import { ENV_DETECTOR_KINDS } from '../../functions/config.ts';
import type { DetectorSpec } from '../../functions/core/detectors.ts';
import { LOCAL_TABLE_NAME, LOCAL_TOPIC_ARN } from '../pipeline/local-detector.ts';
import {
  checkWindowFlags,
  DETECTOR_FLAG_MEANINGS,
  DETECTOR_FLAG_NAMES,
  DETECTOR_FLAGS,
  detectorFromFlags,
} from './detector-flags.ts';
import { helpLines, type OptionDoc, parseFlags, UsageError, usageProblems } from './parse-flags.ts';

export { UsageError };

const positiveInt = z.coerce.number().int().positive();
const nonNegative = z.coerce.number().finite().nonnegative();

// Not strict: parseFlags already rejects unknown options, and the detector flags are read by
// detectorFromFlags, not by this schema.
const optionsSchema = z.object({
  duration: nonNegative.default(45),
  sensors: positiveInt.max(100_000).default(5),
  rate: z.coerce.number().finite().positive().max(100_000).default(20),
  anomalyRate: z.coerce.number().min(0).max(1).default(0.02),
  seed: z.coerce.number().int().optional(),
  noSimulator: z.boolean().default(false),
  backlog: nonNegative.max(86_400).default(0),
  digestSeconds: positiveInt.max(86_400).default(20),
  stopSensor: z
    .string()
    .regex(
      /^.+:\d+(\.\d+)?(-\d+(\.\d+)?)?$/,
      'ID:FROM-TO (seconds after the start, e.g. sensor_3:20-50) or ID:FROM',
    )
    .optional(),
  brokers: z
    .string()
    .trim()
    .min(1)
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter((b) => b !== ''),
    )
    .optional(),
  inProcess: z.boolean().default(false),
  unkeyed: z.boolean().default(false),
  topic: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name')
    .default('sensor-data'),
  anomaliesTopic: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name')
    .optional(),
  groupId: z.string().min(1).default('anomaly-detector-local'),
  startingPosition: z.enum(['trim-horizon', 'latest']).default('trim-horizon'),
  eventSource: z.enum(['msk', 'self-managed']).default('msk'),
  batchSize: positiveInt.max(10_000).default(100),
  batchingWindowMs: z.coerce.number().int().min(0).max(300_000).default(500),
  rules: z.string().min(1).optional(),
  rulesRefreshSeconds: z.coerce.number().finite().positive().max(60).default(30),
  slideSeconds: positiveInt.default(5),
  windowSeconds: positiveInt.default(10),
  alertCooldownSeconds: nonNegative.default(60),
  silenceSeconds: positiveInt.optional(),
  evaluation: z.enum(['arrival', 'window-close']).default('arrival'),
  allowedLatenessMs: z.coerce.number().int().min(0).default(2000),
  flinkFormat: z.enum(['python', 'java']).default('python'),
  dynamodbEndpoint: z.url().optional(),
  snsEndpoint: z.url().optional(),
  tableName: z.string().min(3).max(255).default(LOCAL_TABLE_NAME),
  topicArn: z.string().startsWith('arn:').default(LOCAL_TOPIC_ARN),
  serviceWaitSeconds: z.coerce.number().finite().positive().max(600).default(5),
  statusInterval: nonNegative.default(5),
  noLive: z.boolean().default(false),
  livePort: z.coerce.number().int().min(0).max(65_535).default(0),
  lambdaLogs: z.boolean().default(false),
  help: z.boolean().default(false),
});

/** `--stop-sensor sensor_3:20-50`: the simulator sends nothing of it from 20 s to 50 s. */
export interface StopSensor {
  readonly sensorId: string;
  readonly fromSeconds: number;
  /** Infinity: stopped for good. */
  readonly toSeconds: number;
}

/** Without --silence-seconds or a rules file's, --stop-sensor watches every sensor at this. */
export const STOP_SENSOR_SILENCE_SECONDS = 10;

export type StartOptions = Omit<z.infer<typeof optionsSchema>, 'stopSensor'> & {
  readonly stopSensor?: StopSensor;
  /** The detector the flags choose (without --rules' default). */
  readonly defaultDetector: DetectorSpec;
  /** Whether --detector was given (a rules file's "default" and --detector exclude each other). */
  readonly detectorGiven: boolean;
};

const DETECTOR_OPTION_DOCS: readonly OptionDoc[] = [
  { flag: 'detector', arg: 'D', meaning: ENV_DETECTOR_KINDS.join(' | '), defaultText: 'threshold' },
  ...DETECTOR_FLAGS.map((f) => ({
    flag: f.flag.slice(2),
    arg: 'X',
    meaning: `${f.kind}: ${DETECTOR_FLAG_MEANINGS[f.key] ?? f.parameter}`,
    defaultText: String(f.defaultValue),
  })),
  {
    flag: 'rules',
    arg: 'FILE',
    meaning:
      'per-sensor rules file (docs/detectors.md), as deployed, - for stdin; its "default" replaces --detector',
    defaultText: 'none',
  },
  {
    flag: 'rules-refresh-seconds',
    arg: 'S',
    meaning:
      'how often the rules document in the table is read (npm run rules -- put, docs/rules.md), at most 60',
  },
];

/** The defaults as the schema gives them: for --help and docs/configuration.md. */
export const START_DEFAULTS: Readonly<Record<string, unknown>> = optionsSchema.parse({});

/** Every option of `npm start`, in --help order (docs/configuration.md is generated from it). */
export const START_OPTION_DOCS: readonly OptionDoc[] = [
  ...[
    { flag: 'duration', arg: 'S', meaning: 'seconds to run; 0 = until Ctrl-C' },
    { flag: 'sensors', arg: 'N', meaning: 'number of simulated sensors (sensor_1 … sensor_N)' },
    { flag: 'rate', arg: 'R', meaning: 'readings per second over all sensors' },
    { flag: 'anomaly-rate', arg: 'P', meaning: 'share of readings that are spikes, 0..1' },
    { flag: 'seed', arg: 'N', meaning: 'seed for a reproducible stream', defaultText: 'random' },
    { flag: 'no-simulator', meaning: 'only consume: feed the topic yourself (npm run produce)' },
    {
      flag: 'backlog',
      arg: 'S',
      meaning:
        'first send S s of readings an hour old (a retained backlog): judged, never paged, in the digest',
    },
    {
      flag: 'digest-seconds',
      arg: 'S',
      meaning: 'one email digest per S s (docs/alerting.md); 900 when deployed',
    },
    {
      flag: 'stop-sensor',
      arg: 'ID:FROM-TO',
      meaning: 'the simulator sends nothing of ID from FROM to TO s (no TO: for good)',
      defaultText: 'none',
    },
  ].map((d) => ({ ...d, group: 'Simulator' })),
  ...[
    {
      flag: 'brokers',
      arg: 'LIST',
      meaning: 'use these brokers, e.g. localhost:9092 (also KAFKA_BROKERS)',
      defaultText: 'embedded',
    },
    { flag: 'in-process', meaning: 'no broker at all: an in-process topic (auto without kcat)' },
    { flag: 'topic', arg: 'NAME', meaning: 'topic to consume' },
    {
      flag: 'anomalies-topic',
      arg: 'NAME',
      meaning: 'also produce every anomaly as JSON to this topic (docs/sinks.md)',
    },
    {
      flag: 'unkeyed',
      meaning:
        'send readings without keys, through the repartition step to <topic>.by-sensor (docs/repartition.md)',
    },
    { flag: 'group-id', arg: 'ID', meaning: "the poller's consumer group" },
    {
      flag: 'starting-position',
      arg: 'P',
      meaning: 'trim-horizon | latest, for a group without committed offsets',
    },
    { flag: 'event-source', arg: 'K', meaning: 'msk | self-managed: the Lambda event shape' },
    { flag: 'batch-size', arg: 'N', meaning: 'records per invocation, 1..10000' },
    { flag: 'batching-window-ms', arg: 'MS', meaning: 'max wait to fill a batch' },
  ].map((d) => ({ ...d, group: 'Kafka and the event source mapping' })),
  ...[
    ...DETECTOR_OPTION_DOCS,
    { flag: 'slide-seconds', arg: 'S', meaning: 'window slide' },
    { flag: 'window-seconds', arg: 'S', meaning: 'window length, a multiple of the slide' },
    {
      flag: 'alert-cooldown-seconds',
      arg: 'S',
      meaning: 'at most one notification per sensor per S',
    },
    {
      flag: 'silence-seconds',
      arg: 'S',
      meaning: 'no reading for S: SILENT, then RECOVERED (docs/silence.md)',
      defaultText: `rules file's; ${STOP_SENSOR_SILENCE_SECONDS} with --stop-sensor`,
    },
    {
      flag: 'evaluation',
      arg: 'E',
      meaning:
        'arrival | window-close: judge each reading on arrival, or each window when it closes (the Flink job, docs/semantics.md)',
    },
    {
      flag: 'allowed-lateness-ms',
      arg: 'MS',
      meaning: 'window-close: how long past its end a window waits for out-of-order readings',
    },
    {
      flag: 'flink-format',
      arg: 'F',
      meaning: "window-close: python | java, the seed job's arithmetic and number format",
    },
  ].map((d) => ({ ...d, group: 'Detection (as the deployed function, docs/configuration.md)' })),
  ...[
    {
      flag: 'dynamodb-endpoint',
      arg: 'URL',
      meaning: 'e.g. http://localhost:4566 (LocalStack); also DYNAMODB_ENDPOINT',
      defaultText: 'embedded dynalite',
    },
    {
      flag: 'sns-endpoint',
      arg: 'URL',
      meaning: 'e.g. http://localhost:4566 (LocalStack); also SNS_ENDPOINT',
      defaultText: 'embedded capture endpoint',
    },
    { flag: 'table-name', arg: 'NAME', meaning: 'created if missing' },
    { flag: 'topic-arn', arg: 'ARN', meaning: 'on an external SNS, created if missing' },
    {
      flag: 'service-wait-seconds',
      arg: 'S',
      meaning: 'how long to wait for a given broker, DynamoDB or SNS before giving up',
    },
  ].map((d) => ({ ...d, group: 'AWS endpoints and the broker you give' })),
  ...[
    { flag: 'status-interval', arg: 'S', meaning: 'seconds between status lines; 0 = none' },
    { flag: 'no-live', meaning: 'no live view page (docs/live-view.md)' },
    { flag: 'live-port', arg: 'PORT', meaning: 'port of the live view on 127.0.0.1; 0 = any free' },
    { flag: 'lambda-logs', meaning: "also print the function's JSON logs and EMF metrics" },
  ].map((d) => ({ ...d, group: 'Output' })),
];

/** As kcat's: -b brokers, -t topic. */
export const START_SHORT_OPTIONS = { b: 'brokers', t: 'topic' } as const;

export const START_HELP = `Usage: npm start -- [options]

Runs the anomaly detector locally: a Kafka broker (embedded when none is given), DynamoDB
(dynalite) and an SNS capture endpoint, the Lambda event source mapping emulation, the very
Lambda handler, and a sensor simulator. Prints each anomaly as the Flink job did, each
notification as SNS receives it, and a status line; serves a live view on loopback.

${helpLines(START_OPTION_DOCS, START_DEFAULTS, START_SHORT_OPTIONS)}
  -h, --help                  this help
`;

const BOOLEAN_OPTIONS = [
  'no-simulator',
  'in-process',
  'no-live',
  'lambda-logs',
  'unkeyed',
] as const;
const STRING_OPTIONS = START_OPTION_DOCS.map((d) => d.flag).filter(
  (flag) => !(BOOLEAN_OPTIONS as readonly string[]).includes(flag),
);
// Every detector flag is an npm start flag too.
for (const flag of DETECTOR_FLAG_NAMES) {
  if (!STRING_OPTIONS.includes(flag)) throw new Error(`--${flag} is not documented for npm start`);
}

/** Parses argv (and the KAFKA_BROKERS / DYNAMODB_ENDPOINT / SNS_ENDPOINT fallbacks). */
export function parseStartOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): StartOptions {
  const camel = parseFlags(argv, STRING_OPTIONS, BOOLEAN_OPTIONS, START_SHORT_OPTIONS, env);
  const fromEnv = (name: string) =>
    env[name] === undefined || env[name] === '' ? undefined : env[name];
  camel.brokers ??= fromEnv('KAFKA_BROKERS');
  camel.dynamodbEndpoint ??= fromEnv('DYNAMODB_ENDPOINT');
  camel.snsEndpoint ??= fromEnv('SNS_ENDPOINT');
  const parsed = optionsSchema.safeParse(camel);
  if (!parsed.success) throw new UsageError(usageProblems(parsed.error.issues, camel));
  const { stopSensor, ...rest } = parsed.data;
  const options: StartOptions = {
    ...rest,
    ...(stopSensor === undefined ? {} : { stopSensor: parseStopSensor(stopSensor) }),
    defaultDetector: detectorFromFlags(camel),
    detectorGiven: camel.detector !== undefined,
  };
  if (options.stopSensor !== undefined && options.noSimulator) {
    throw new UsageError('--stop-sensor stops a simulated sensor: drop --no-simulator');
  }
  if (options.inProcess && options.brokers !== undefined) {
    throw new UsageError('--in-process and --brokers (or KAFKA_BROKERS) exclude each other');
  }
  if (options.anomaliesTopic !== undefined && options.inProcess) {
    throw new UsageError('--anomalies-topic needs a Kafka broker to produce to: drop --in-process');
  }
  if (options.anomaliesTopic !== undefined && options.anomaliesTopic === options.topic) {
    throw new UsageError(`--anomalies-topic must differ from --topic (both "${options.topic}")`);
  }
  if (options.unkeyed && options.inProcess) {
    throw new UsageError('--unkeyed needs a Kafka broker for the keyed topic: drop --in-process');
  }
  if (options.noSimulator && options.inProcess) {
    throw new UsageError('--no-simulator needs a broker to produce to: drop --in-process');
  }
  checkWindowFlags(options.windowSeconds, options.slideSeconds);
  if (options.evaluation === 'arrival') {
    for (const [key, flag] of [
      ['allowedLatenessMs', '--allowed-lateness-ms'],
      ['flinkFormat', '--flink-format'],
    ] as const) {
      if (camel[key] !== undefined)
        throw new UsageError(`${flag}: applies to --evaluation window-close`);
    }
  }
  return options;
}

function parseStopSensor(text: string): StopSensor {
  const at = text.lastIndexOf(':');
  const [from, to] = text.slice(at + 1).split('-');
  const stop = {
    sensorId: text.slice(0, at),
    fromSeconds: Number(from),
    toSeconds: to === undefined ? Number.POSITIVE_INFINITY : Number(to),
  };
  if (stop.toSeconds <= stop.fromSeconds) {
    throw new UsageError(
      `--stop-sensor: the sensor must come back after it stops (got ${JSON.stringify(text)}, ${to} ≤ ${from})`,
    );
  }
  return stop;
}
