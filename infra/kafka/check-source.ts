import { z } from 'zod';
import type { Problem } from '../props/problems.ts';
import {
  BROKERS,
  checkValues,
  int,
  KMS_KEY_ARN,
  MSK_CLUSTER_ARN_PATTERN,
  SECRET_ARN,
  SECURITY_GROUP_ID,
  SUBNET_IDS,
  TOPICS,
  VPC_ID,
} from '../props/value-schemas.ts';
import {
  CONSUMER_GROUP_PATTERN,
  KAFKA_DEFAULTS,
  MSK_SCRAM_SECRET_PREFIX,
  PROVISIONED_DEFAULTS,
  type ProvisionedModeConfig,
} from './source-config.ts';
import type {
  KafkaSourceCommonProps,
  MskKafkaSourceProps,
  SelfManagedKafkaSourceProps,
} from './source-props.ts';

// What is wrong with a KafkaSource's props, as problems with paths relative to the source
// (`batchSize`, `provisionedPollers.minPollers`): KafkaSource's factories throw them, the
// CDK-context layer prints them with its own keys.

type Secured = { readonly secretArn?: string; readonly secretKmsKeyArn?: string };

function commonProblems(props: KafkaSourceCommonProps & Secured): Problem[] {
  const p = props.provisionedPollers;
  const problems = checkValues([
    ['topics', TOPICS.min(1), props.topics],
    [
      'consumerGroupId',
      z.string().regex(CONSUMER_GROUP_PATTERN, 'must be 1-200 of [A-Za-z0-9-/*:_+=.@]'),
      props.consumerGroupId,
    ],
    ['batchSize', int(1, 10_000), props.batchSize],
    ['batchingWindowSeconds', int(0, 300), props.batchingWindowSeconds],
    [
      'startingPosition',
      z.enum(['LATEST', 'TRIM_HORIZON', 'AT_TIMESTAMP']),
      props.startingPosition,
    ],
    [
      'startingPositionTimestampSeconds',
      int(0, 4_102_444_800),
      props.startingPositionTimestampSeconds,
    ],
    ['provisionedPollers.minPollers', int(1, 200), p?.minPollers],
    ['provisionedPollers.maxPollers', int(1, 2000), p?.maxPollers],
    [
      'provisionedPollers.pollerGroupName',
      z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be 1-128 of [A-Za-z0-9_-]'),
      p?.pollerGroupName,
    ],
    ['provisionedPollers.retryAttempts', int(-1, 10_000), p?.retryAttempts],
    ['provisionedPollers.maxRecordAgeSeconds', int(60, 604_800), p?.maxRecordAgeSeconds],
    ['provisionedPollers.bisectBatchOnError', z.boolean(), p?.bisectBatchOnError],
    ['provisionedPollers.reportBatchItemFailures', z.boolean(), p?.reportBatchItemFailures],
    ['secretArn', SECRET_ARN, props.secretArn],
    ['secretKmsKeyArn', KMS_KEY_ARN, props.secretKmsKeyArn],
  ]);
  const position = props.startingPosition ?? KAFKA_DEFAULTS.startingPosition;
  const timestamp = props.startingPositionTimestampSeconds;
  if (position === 'AT_TIMESTAMP' && timestamp === undefined)
    problems.push({
      path: 'startingPositionTimestampSeconds',
      message: 'required when {{startingPosition}} is AT_TIMESTAMP',
      got: 'missing',
    });
  if (position !== 'AT_TIMESTAMP' && timestamp !== undefined)
    problems.push({
      path: 'startingPositionTimestampSeconds',
      message: `not allowed when {{startingPosition}} is ${position}`,
      got: { value: timestamp },
    });
  if (p?.minPollers !== undefined && p.maxPollers !== undefined && p.minPollers > p.maxPollers)
    problems.push({
      path: 'provisionedPollers.minPollers',
      message: `must not exceed {{provisionedPollers.maxPollers}} (${p.maxPollers})`,
      got: { value: p.minPollers },
    });
  if (props.secretKmsKeyArn !== undefined && props.secretArn === undefined)
    problems.push({
      path: 'secretArn',
      message: 'required with {{secretKmsKeyArn}}',
      got: 'missing',
    });
  return problems;
}

/** `arn:...:secret:NAME-AbCdEf` → NAME */
function secretName(arn: string): string {
  return arn.split(':secret:')[1]?.slice(0, -7) ?? '';
}

export function mskSourceProblems(props: MskKafkaSourceProps): Problem[] {
  const problems = commonProblems(props);
  problems.push(
    ...checkValues([
      [
        'clusterArn',
        z.string().regex(MSK_CLUSTER_ARN_PATTERN, 'must be an MSK cluster ARN'),
        props.clusterArn,
      ],
    ]),
  );
  const auth = props.auth ?? 'iam';
  if (auth !== 'iam' && auth !== 'sasl-scram-512') {
    // Lambda supports IAM and SASL/SCRAM-512 for MSK; the CDK source has no mTLS option.
    problems.push({
      path: 'auth',
      message: 'must be iam or sasl-scram-512 on MSK',
      got: { value: auth, asGiven: true },
    });
  }
  if (auth === 'sasl-scram-512') {
    if (props.secretArn === undefined)
      problems.push({
        path: 'secretArn',
        message: 'required when {{auth}} is sasl-scram-512 on MSK',
        got: 'missing',
      });
    if (props.secretKmsKeyArn === undefined)
      problems.push({
        path: 'secretKmsKeyArn',
        message:
          'required when {{auth}} is sasl-scram-512 on MSK: MSK cannot use a secret encrypted with the default AWS managed key, so give the customer managed key of the secret',
        got: 'missing',
      });
    const name = props.secretArn === undefined ? undefined : secretName(props.secretArn);
    if (name !== undefined && !name.startsWith(MSK_SCRAM_SECRET_PREFIX))
      problems.push({
        path: 'secretArn',
        message: `an MSK SCRAM secret's name must begin with ${MSK_SCRAM_SECRET_PREFIX} (got the name "${name}")`,
      });
  }
  if (auth === 'iam' && props.secretArn !== undefined)
    problems.push({
      path: 'secretArn',
      message: `only used with {{auth}}=sasl-scram-512 on MSK, and {{auth}} is ${props.auth === undefined ? 'iam (the MSK default)' : 'iam'}: add {{auth=sasl-scram-512}} or remove {{secretArn}}`,
    });
  return problems;
}

export function selfManagedSourceProblems(props: SelfManagedKafkaSourceProps): Problem[] {
  const problems = commonProblems(props);
  problems.push(
    ...checkValues([
      ['bootstrapServers', BROKERS.min(1), props.bootstrapServers],
      ['rootCaSecretArn', SECRET_ARN, props.rootCaSecretArn],
      ['vpc.vpcId', VPC_ID, props.vpc?.vpcId],
      ['vpc.subnetIds', SUBNET_IDS.min(1), props.vpc?.subnetIds],
      ['vpc.securityGroupId', SECURITY_GROUP_ID, props.vpc?.securityGroupId],
    ]),
  );
  const auth: string = props.auth ?? 'sasl-scram-512';
  if (auth === 'iam') {
    problems.push({
      path: 'auth',
      message: 'iam is for MSK only; use sasl-scram-512, sasl-scram-256, mtls or none',
    });
  } else {
    problems.push(
      ...checkValues([
        ['auth', z.enum(['sasl-scram-512', 'sasl-scram-256', 'mtls', 'none']), props.auth],
      ]),
    );
  }
  if (auth === 'mtls' && props.secretArn === undefined)
    problems.push({
      path: 'secretArn',
      message: 'required when {{auth}} is mtls (client certificate)',
      got: 'missing',
    });
  if (auth === 'none') {
    if (props.secretArn !== undefined)
      problems.push({
        path: 'secretArn',
        message: 'not allowed when {{auth}} is none',
        got: { value: props.secretArn },
      });
    // Lambda only reaches unauthenticated brokers through a VPC.
    if (props.vpc === undefined) problems.push({ path: 'auth', message: 'none requires {{vpc}}' });
  }
  return problems;
}

/** The settings every source shares, with their defaults, once the props are checked. */
export function commonConfig(props: KafkaSourceCommonProps & Secured, defaultGroupId: string) {
  const p = props.provisionedPollers;
  const provisioned: ProvisionedModeConfig | undefined =
    p === undefined
      ? undefined
      : {
          ...(p.minPollers === undefined ? {} : { minPollers: p.minPollers }),
          ...(p.maxPollers === undefined ? {} : { maxPollers: p.maxPollers }),
          ...(p.pollerGroupName === undefined ? {} : { pollerGroupName: p.pollerGroupName }),
          retryAttempts: p.retryAttempts ?? PROVISIONED_DEFAULTS.retryAttempts,
          ...(p.maxRecordAgeSeconds === undefined
            ? {}
            : { maxRecordAgeSeconds: p.maxRecordAgeSeconds }),
          bisectBatchOnError: p.bisectBatchOnError ?? PROVISIONED_DEFAULTS.bisectBatchOnError,
          reportBatchItemFailures:
            p.reportBatchItemFailures ?? PROVISIONED_DEFAULTS.reportBatchItemFailures,
        };
  return {
    topics: props.topics,
    consumerGroupId: props.consumerGroupId ?? defaultGroupId,
    batchSize: props.batchSize ?? KAFKA_DEFAULTS.batchSize,
    batchingWindowSeconds: props.batchingWindowSeconds ?? KAFKA_DEFAULTS.batchingWindowSeconds,
    startingPosition: props.startingPosition ?? KAFKA_DEFAULTS.startingPosition,
    ...(props.startingPositionTimestampSeconds === undefined
      ? {}
      : { startingPositionTimestampSeconds: props.startingPositionTimestampSeconds }),
    ...(provisioned === undefined ? {} : { provisioned }),
    ...(props.secretArn === undefined ? {} : { secretArn: props.secretArn }),
    ...(props.secretKmsKeyArn === undefined ? {} : { secretKmsKeyArn: props.secretKmsKeyArn }),
  };
}
