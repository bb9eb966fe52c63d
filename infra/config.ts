import { CONTEXT_KEYS } from './context/keys.ts';
import { readContext } from './context/read-context.ts';
import { contextNames, contextToProps, keyOfPath } from './context/to-props.ts';
import { defaultConsumerGroupId, KafkaSource, type KafkaSourceConfig } from './kafka-source.ts';
import { detectorPropsProblems } from './props/check-detector-props.ts';
import type { SensorAnomalyDetectorProps } from './props/detector-props.ts';
import { nested, type Problem, renderProblem } from './props/problems.ts';

export { CONTEXT_DEFAULTS, CONTEXT_KEYS, type ContextKey } from './context/keys.ts';
export {
  KAFKA_MAX_TIMEOUT_SECONDS,
  MSK_SCRAM_SECRET_PREFIX,
  PROVISIONED_DEFAULTS,
} from './kafka-source.ts';

/**
 * The deploy configuration of the repository's own app, read from CDK context (`cdk.json`
 * and `-c key=value`): a thin mapping of flat keys onto the construct's props. The construct's
 * own checks (infra/props/check-detector-props.ts, infra/kafka/check-source.ts) judge the
 * values; their lines are printed here with the context keys, all at once, before any
 * construct is built.
 */
export class DeployConfigError extends Error {
  override readonly name = 'DeployConfigError';
}

export interface DeployConfig {
  readonly stackName: string;
  /** The MSK cluster's region (a Kafka mapping must live there). @default - the CLI's */
  readonly region?: string;
  /** false: no event source mapping (LocalStack, or a trigger attached by the user). */
  readonly eventSourceMapping: boolean;
  /** The Kafka source as the construct resolves it, with the stack's consumer group. */
  readonly kafka: KafkaSourceConfig;
  /** The construct's props. */
  readonly props: SensorAnomalyDetectorProps;
}

export interface ParseOptions {
  /** Directory that relative file paths (detectorRulesFile) are resolved from. @default process.cwd() */
  readonly cwd?: string;
}

export function parseDeployConfig(
  context: Readonly<Record<string, unknown>>,
  options: ParseOptions = {},
): DeployConfig {
  const cwd = options.cwd ?? process.cwd();
  const read = readContext(context);
  const mapped = contextToProps(read, cwd);
  const names = contextNames(read);

  const sourceProblems =
    mapped.source.kind === 'msk'
      ? KafkaSource.mskProblems(mapped.source.props)
      : KafkaSource.selfManagedProblems(mapped.source.props);
  const kafkaSource =
    sourceProblems.length > 0
      ? undefined
      : mapped.source.kind === 'msk'
        ? KafkaSource.msk(mapped.source.props)
        : KafkaSource.selfManaged(mapped.source.props);
  const kafka = kafkaSource?._config(defaultConsumerGroupId(mapped.stackName));
  const props: SensorAnomalyDetectorProps = {
    ...mapped.props,
    ...(mapped.eventSourceMapping && kafkaSource !== undefined ? { kafkaSource } : {}),
  };
  const propProblems: Problem[] = [
    ...nested('kafkaSource', sourceProblems),
    ...detectorPropsProblems(
      { ...props, detection: mapped.detectionAsGiven },
      {
        stackName: mapped.stackName,
        source: kafka === undefined ? 'unchecked' : mapped.eventSourceMapping ? kafka : undefined,
        cwd,
      },
    ),
  ];
  const lines = [
    ...read.problems,
    ...mapped.problems,
    // A key whose value was not of its kind is reported once, by the reading.
    ...propProblems
      .filter((p) => !read.invalid.has(keyOfPath(p.path) as never))
      .map((p) => ({ key: keyOfPath(p.path), line: renderProblem(p, names) })),
  ];
  if (lines.length > 0 || kafka === undefined) {
    const order = (key: string) => (CONTEXT_KEYS as string[]).indexOf(key);
    const sorted = [...lines].sort((a, b) => order(a.key) - order(b.key));
    throw new DeployConfigError(
      `invalid deploy configuration (CDK context):\n${sorted.map((p) => `  - ${p.line}`).join('\n')}`,
    );
  }
  return {
    stackName: mapped.stackName,
    ...(kafka.kind === 'msk' ? { region: kafka.clusterArn.split(':')[3] } : {}),
    eventSourceMapping: mapped.eventSourceMapping,
    kafka,
    props,
  };
}
