import {
  commonConfig,
  mskSourceProblems,
  selfManagedSourceProblems,
} from './kafka/check-source.ts';
import type { KafkaSourceConfig, KafkaSourceKind } from './kafka/source-config.ts';
import type { MskKafkaSourceProps, SelfManagedKafkaSourceProps } from './kafka/source-props.ts';
import { type Problem, problemsError } from './props/problems.ts';

export * from './kafka/source-config.ts';
export * from './kafka/source-props.ts';

/**
 * Where the readings come from, as typed props: `KafkaSource.msk({...})` or
 * `KafkaSource.selfManaged({...})`. Each factory checks its props and throws one line per
 * problem (infra/kafka/check-source.ts, the same lines the CDK-context layer prints with its
 * keys).
 */
export class KafkaSource {
  /** What is wrong with MSK source props, without throwing (the CDK-context layer's use). */
  static mskProblems(props: MskKafkaSourceProps): Problem[] {
    return mskSourceProblems(props);
  }

  /** What is wrong with self-managed source props, without throwing. */
  static selfManagedProblems(props: SelfManagedKafkaSourceProps): Problem[] {
    return selfManagedSourceProblems(props);
  }

  static msk(props: MskKafkaSourceProps): KafkaSource {
    const problems = mskSourceProblems(props);
    if (problems.length > 0) throw problemsError('KafkaSource.msk', problems);
    return new KafkaSource('msk', props);
  }

  static selfManaged(props: SelfManagedKafkaSourceProps): KafkaSource {
    const problems = selfManagedSourceProblems(props);
    if (problems.length > 0) throw problemsError('KafkaSource.selfManaged', problems);
    return new KafkaSource('self-managed', props);
  }

  private constructor(
    /** Which of the two, for checks that differ between them. */
    readonly kind: KafkaSourceKind,
    /** The props as given, checked. */
    readonly props: MskKafkaSourceProps | SelfManagedKafkaSourceProps,
  ) {}

  /** @internal The source, with the construct's default consumer group unless props set one. */
  _config(defaultGroupId: string): KafkaSourceConfig {
    if (this.kind === 'msk') {
      const props = this.props as MskKafkaSourceProps;
      return {
        kind: 'msk',
        clusterArn: props.clusterArn,
        auth: props.auth ?? 'iam',
        ...commonConfig(props, defaultGroupId),
      };
    }
    const props = this.props as SelfManagedKafkaSourceProps;
    return {
      kind: 'self-managed',
      bootstrapServers: props.bootstrapServers,
      auth: props.auth ?? 'sasl-scram-512',
      ...(props.rootCaSecretArn === undefined ? {} : { rootCaSecretArn: props.rootCaSecretArn }),
      ...(props.vpc === undefined ? {} : { vpc: props.vpc }),
      ...commonConfig(props, defaultGroupId),
    };
  }
}
