import { z } from 'zod';
import { ZSCORE_DEFAULTS } from '../../functions/core/detectors.ts';
import { LOCAL_TABLE_NAME, LOCAL_TOPIC_ARN } from '../pipeline/local-detector.ts';
import { parseFlags, UsageError } from './parse-flags.ts';

export { UsageError };

export const START_HELP = `Usage: npm start -- [options]

Runs the anomaly detector locally: a Kafka broker (embedded when none is given), DynamoDB
(dynalite) and an SNS capture endpoint, the Lambda event source mapping emulation, the very
Lambda handler, and a sensor simulator. Prints each anomaly as the Flink job did, each
notification as SNS receives it, and a status line.

Simulator
  --duration S            seconds to run; 0 = until Ctrl-C              (default 45)
  --sensors N             number of simulated sensors                   (default 5)
  --rate R                readings per second over all sensors          (default 20)
  --anomaly-rate P        share of readings that are spikes, 0..1       (default 0.02)
  --seed N                seed for a reproducible stream                (default random)
  --no-simulator          only consume: feed the topic yourself (npm run produce)

Kafka and the event source mapping
  --brokers LIST          use these brokers (also KAFKA_BROKERS), e.g. localhost:9092
  --in-process            no broker at all: an in-process topic (auto when kcat is missing)
  --topic NAME            topic to consume                              (default sensor-data)
  --group-id ID           consumer group                                (default anomaly-detector-local)
  --starting-position P   trim-horizon | latest                         (default trim-horizon)
  --event-source K        msk | self-managed: the Lambda event shape    (default msk)
  --batch-size N          records per invocation, 1..10000              (default 100)
  --batching-window-ms MS max wait to fill a batch                      (default 500)

Detection (the Lambda's environment, see functions/config.ts)
  --detector D            threshold | zscore | ewma                     (default threshold)
  --threshold X           threshold detector: |value - avg| > X         (default 50)
  --zscore-sigma K        zscore detector: k                            (default 2.5)
  --rules FILE            per-sensor rules file (docs/detectors.md), as deployed with
                          cdk -c detectorRulesFile=FILE; its "default" replaces --detector
  --slide-seconds S       window slide                                  (default 5)
  --window-seconds S      window length, a multiple of the slide        (default 10)
  --alert-cooldown-seconds S  at most one notification per sensor per S (default 60)

AWS endpoints (default: embedded dynalite and SNS capture endpoint)
  --dynamodb-endpoint URL e.g. http://localhost:4566 (LocalStack); also DYNAMODB_ENDPOINT
  --sns-endpoint URL      e.g. http://localhost:4566 (LocalStack); also SNS_ENDPOINT
  --table-name NAME       (default ${LOCAL_TABLE_NAME})
  --topic-arn ARN         (default ${LOCAL_TOPIC_ARN})

Output
  --status-interval S     seconds between status lines; 0 = none       (default 5)
  --lambda-logs           also print the function's JSON logs and EMF metrics
  -h, --help              this help
`;

const positiveInt = z.coerce.number().int().positive();
const nonNegative = z.coerce.number().finite().nonnegative();

const optionsSchema = z.strictObject({
  duration: nonNegative.default(45),
  sensors: positiveInt.max(100_000).default(5),
  rate: z.coerce.number().finite().positive().max(100_000).default(20),
  anomalyRate: z.coerce.number().min(0).max(1).default(0.02),
  seed: z.coerce.number().int().optional(),
  noSimulator: z.boolean().default(false),
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
  topic: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name')
    .default('sensor-data'),
  groupId: z.string().min(1).default('anomaly-detector-local'),
  startingPosition: z.enum(['trim-horizon', 'latest']).default('trim-horizon'),
  eventSource: z.enum(['msk', 'self-managed']).default('msk'),
  batchSize: positiveInt.max(10_000).default(100),
  batchingWindowMs: z.coerce.number().int().min(0).max(300_000).default(500),
  detector: z.enum(['threshold', 'zscore', 'ewma']).default('threshold'),
  rules: z.string().min(1).optional(),
  threshold: nonNegative.default(50),
  zscoreSigma: z.coerce.number().finite().positive().default(ZSCORE_DEFAULTS.sigma),
  slideSeconds: positiveInt.default(5),
  windowSeconds: positiveInt.default(10),
  alertCooldownSeconds: nonNegative.default(60),
  dynamodbEndpoint: z.url().optional(),
  snsEndpoint: z.url().optional(),
  tableName: z.string().min(3).max(255).default(LOCAL_TABLE_NAME),
  topicArn: z.string().startsWith('arn:').default(LOCAL_TOPIC_ARN),
  statusInterval: nonNegative.default(5),
  lambdaLogs: z.boolean().default(false),
  help: z.boolean().default(false),
});

export type StartOptions = z.infer<typeof optionsSchema>;

const STRING_OPTIONS = [
  'duration',
  'sensors',
  'rate',
  'anomaly-rate',
  'seed',
  'brokers',
  'topic',
  'group-id',
  'starting-position',
  'event-source',
  'batch-size',
  'batching-window-ms',
  'detector',
  'threshold',
  'zscore-sigma',
  'rules',
  'slide-seconds',
  'window-seconds',
  'alert-cooldown-seconds',
  'dynamodb-endpoint',
  'sns-endpoint',
  'table-name',
  'topic-arn',
  'status-interval',
] as const;
const BOOLEAN_OPTIONS = ['no-simulator', 'in-process', 'lambda-logs'] as const;

/** Parses argv (and the KAFKA_BROKERS / DYNAMODB_ENDPOINT / SNS_ENDPOINT fallbacks). */
export function parseStartOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): StartOptions {
  const camel = parseFlags(argv, STRING_OPTIONS, BOOLEAN_OPTIONS);
  const fromEnv = (name: string) =>
    env[name] === undefined || env[name] === '' ? undefined : env[name];
  camel.brokers ??= fromEnv('KAFKA_BROKERS');
  camel.dynamodbEndpoint ??= fromEnv('DYNAMODB_ENDPOINT');
  camel.snsEndpoint ??= fromEnv('SNS_ENDPOINT');
  const parsed = optionsSchema.safeParse(camel);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      return `${flag}: ${issue.message} (got ${JSON.stringify(camel[key])})`;
    });
    throw new UsageError(problems.join('\n'));
  }
  if (parsed.data.inProcess && parsed.data.brokers !== undefined) {
    throw new UsageError('--in-process and --brokers (or KAFKA_BROKERS) exclude each other');
  }
  if (parsed.data.noSimulator && parsed.data.inProcess) {
    throw new UsageError('--no-simulator needs a broker to produce to: drop --in-process');
  }
  return parsed.data;
}
