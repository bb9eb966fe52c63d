import { resolve } from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import type {
  MskKafkaSourceProps,
  SelfManagedKafkaSourceProps,
  VpcNetworkConfig,
} from '../kafka-source.ts';
import type { SensorAnomalyDetectorProps } from '../props/detector-props.ts';
import { type ProblemNames, show } from '../props/problems.ts';
import { checkValue } from '../props/value-schemas.ts';
import { CONTEXT_KEY_SPECS, CONTEXT_KEYS, type ContextKey } from './keys.ts';
import type { KeyProblem, ReadContext } from './read-context.ts';

/** The construct's props from context values, and what only the context can get wrong. */
export interface MappedContext {
  readonly stackName: string;
  readonly eventSourceMapping: boolean;
  readonly source:
    | { readonly kind: 'msk'; readonly props: MskKafkaSourceProps }
    | { readonly kind: 'self-managed'; readonly props: SelfManagedKafkaSourceProps };
  /** Every prop but `kafkaSource` (built from `source` once its props are checked). */
  readonly props: Omit<SensorAnomalyDetectorProps, 'kafkaSource'>;
  /** The detection props with a relative rules file, as the checks name it. */
  readonly detectionAsGiven: SensorAnomalyDetectorProps['detection'];
  readonly problems: readonly KeyProblem[];
}

const VPC_KEYS = ['vpcId', 'subnetIds', 'securityGroupId'] as const;
const PROVISIONED_KEYS = ['provisionedMinPollers', 'provisionedMaxPollers', 'pollerGroupName'];
const PROVISIONED_ONLY = [
  'retryAttempts',
  'maxRecordAgeSeconds',
  'bisectBatchOnError',
  'reportBatchItemFailures',
] as const;

/**
 * Each key's value set at its prop's path; a key with no prop chooses (kafkaSource: which
 * factory; createSqsEndpoint: the endpoint's network; removalPolicy: the enum). The only
 * checks here are of keys that have no prop to go to in the chosen configuration.
 */
export function contextToProps(read: ReadContext, cwd: string): MappedContext {
  const v = read.values as Record<ContextKey, never>;
  const problems: KeyProblem[] = [];
  const problem = (key: ContextKey, text: string) =>
    problems.push({ key, line: `${key}: ${text}` });
  const present = (key: ContextKey) => v[key] !== undefined && !read.invalid.has(key);
  const requireKey = (key: ContextKey, why: string) => {
    if (v[key] === undefined && !read.invalid.has(key)) problem(key, `required ${why} (not set)`);
  };
  const forbidKey = (key: ContextKey, why: string) => {
    if (present(key)) problem(key, `not allowed ${why} (got ${show(v[key])})`);
  };
  for (const [key, schema] of [
    [
      'stackName',
      z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'must be a CloudFormation stack name'),
    ],
    ['kafkaSource', z.enum(['self-managed', 'msk'])],
    ['removalPolicy', z.enum(['retain', 'destroy'])],
  ] as const) {
    const p = checkValue(key, schema, v[key]);
    if (p !== undefined) problem(key, `${p.message} (got ${show(read.given[key])})`);
  }

  const tree: Record<string, unknown> = {};
  for (const key of CONTEXT_KEYS) {
    const prop = (CONTEXT_KEY_SPECS[key] as { prop?: string }).prop;
    if (prop !== undefined && v[key] !== undefined) setPath(tree, prop, v[key]);
  }
  const sourceTree = (tree.kafkaSource ?? {}) as Record<string, unknown>;
  // The source's keys become a KafkaSource (config.ts), never a prop as they stand: left in
  // the tree, a mapping-less deploy would hand the construct a plain object as kafkaSource.
  delete tree.kafkaSource;
  const isProvisioned = PROVISIONED_KEYS.some((k) => v[k as ContextKey] !== undefined);
  if (!isProvisioned) {
    // Kafka mappings accept these error-handling controls in provisioned mode only.
    for (const key of PROVISIONED_ONLY)
      forbidKey(key, 'in on-demand mode; set provisionedMinPollers to use provisioned mode');
  }

  const vpcGiven = VPC_KEYS.filter((k) => v[k] !== undefined);
  const network: VpcNetworkConfig | undefined =
    vpcGiven.length === VPC_KEYS.length
      ? { vpcId: v.vpcId, subnetIds: v.subnetIds, securityGroupId: v.securityGroupId }
      : undefined;
  const msk = v.kafkaSource === 'msk';
  if (msk) {
    requireKey('mskClusterArn', 'when kafkaSource is msk');
    forbidKey('rootCaSecretArn', 'when kafkaSource is msk (self-managed brokers only)');
    if (v.createSqsEndpoint !== true)
      for (const key of VPC_KEYS)
        forbidKey(
          key,
          'when kafkaSource is msk unless createSqsEndpoint=true (then: the cluster VPC)',
        );
    // MSK props have no VPC (the cluster's is known to Lambda): these keys are the network
    // of the SQS endpoint and of the functions that reach the brokers.
    delete sourceTree.vpc;
  } else {
    if (present('mskClusterArn'))
      problem(
        'mskClusterArn',
        `only used with kafkaSource=msk, and kafkaSource is ${v.kafkaSource}: add -c kafkaSource=msk (or remove mskClusterArn)`,
      );
    if (vpcGiven.length > 0 && network === undefined) {
      for (const key of VPC_KEYS) requireKey(key, `with ${vpcGiven.join(', ')} (brokers in a VPC)`);
      delete sourceTree.vpc;
    }
  }

  const sqsEndpoint = sqsEndpointProps(read, network, msk, problem);
  if (v.anomaliesTopic === undefined) {
    for (const key of ['anomaliesBootstrapServers', 'anomaliesVpcAwsAccess'] as const)
      if (present(key)) problem(key, 'only used with anomaliesTopic (not set)');
    delete tree.anomaliesTopic;
  }
  // The VPC keys are the functions' network too (the construct's `network`), with how they
  // reach AWS from it (anomaliesVpcAwsAccess, routeTableIds).
  const networkTree = (tree.network ?? {}) as Record<string, unknown>;
  delete tree.network;
  if (network !== undefined && (!msk || v.createSqsEndpoint === true)) {
    tree.network = { ...network, ...networkTree };
  } else if (v.anomaliesTopic !== undefined) {
    for (const key of ['anomaliesVpcAwsAccess', 'routeTableIds'] as const)
      if (present(key))
        problem(
          key,
          `only used when the functions join a VPC: set vpcId, subnetIds and securityGroupId (got ${show(read.given[key])})`,
        );
  } else if (present('routeTableIds')) {
    problem('routeTableIds', 'only used with anomaliesTopic (not set)');
  }

  const detectionAsGiven = tree.detection as SensorAnomalyDetectorProps['detection'];
  const rulesFile = detectionAsGiven?.detectorRulesFile;
  const props: Omit<SensorAnomalyDetectorProps, 'kafkaSource'> = {
    ...(tree as Omit<SensorAnomalyDetectorProps, 'kafkaSource'>),
    ...(rulesFile === undefined
      ? {}
      : { detection: { ...detectionAsGiven, detectorRulesFile: resolve(cwd, rulesFile) } }),
    logRetention: v.logRetentionDays as RetentionDays,
    removalPolicy: v.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    ...(sqsEndpoint === undefined ? {} : { sqsEndpoint }),
    dashboardName: v.stackName,
  };
  if (sqsEndpoint === undefined) delete (props as { sqsEndpoint?: unknown }).sqsEndpoint;
  return {
    stackName: v.stackName,
    eventSourceMapping: v.eventSourceMapping,
    source: msk
      ? { kind: 'msk', props: sourceTree as unknown as MskKafkaSourceProps }
      : { kind: 'self-managed', props: sourceTree as unknown as SelfManagedKafkaSourceProps },
    props,
    detectionAsGiven,
    problems,
  };
}

/**
 * The SQS interface endpoint's network: the brokers' VPC for self-managed Kafka, the
 * cluster's VPC for MSK. An interface endpoint takes at most one subnet per Availability
 * Zone, and subnets given by id carry no zone: the first subnet alone is always valid (the
 * pollers of every zone reach it); sqsEndpointSubnetIds spreads it over several zones.
 */
function sqsEndpointProps(
  read: ReadContext,
  network: VpcNetworkConfig | undefined,
  msk: boolean,
  problem: (key: ContextKey, text: string) => void,
): VpcNetworkConfig | undefined {
  const v = read.values as Record<ContextKey, never>;
  const chosen = v.sqsEndpointSubnetIds as readonly string[] | undefined;
  if (v.createSqsEndpoint !== true) {
    if (chosen !== undefined)
      problem('sqsEndpointSubnetIds', 'only used with createSqsEndpoint=true');
    return undefined;
  }
  if (network === undefined) {
    if (!msk && !read.invalid.has('vpcId') && v.vpcId === undefined)
      problem(
        'createSqsEndpoint',
        'needs vpcId, subnetIds and securityGroupId (brokers reached over the internet need no endpoint)',
      );
    if (msk)
      for (const key of VPC_KEYS)
        if (v[key] === undefined && !read.invalid.has(key))
          problem(key, 'required when createSqsEndpoint=true on MSK (the cluster VPC) (not set)');
    return undefined;
  }
  const foreign = (chosen ?? []).filter((id) => !network.subnetIds.includes(id));
  if (foreign.length > 0)
    problem(
      'sqsEndpointSubnetIds',
      `must be among subnetIds (${network.subnetIds.join(',')}) (got ${foreign.join(',')})`,
    );
  return { ...network, subnetIds: chosen ?? network.subnetIds.slice(0, 1) };
}

function setPath(tree: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1) as string] = value;
}

/** Prop paths named by the keys that set them, so the construct's lines read as context. */
const KEY_OF_PATH: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    CONTEXT_KEYS.flatMap((key) => {
      const prop = (CONTEXT_KEY_SPECS[key] as { prop?: string }).prop;
      return prop === undefined ? [] : [[prop, key]];
    }),
  ),
  kafkaSource: 'kafkaSource',
  'kafkaSource.vpc': 'vpcId, subnetIds and securityGroupId',
  network: 'vpcId, subnetIds and securityGroupId',
  'network.vpcId': 'vpcId',
  'network.subnetIds': 'subnetIds',
  'network.securityGroupId': 'securityGroupId',
  sqsEndpoint: 'createSqsEndpoint',
  'sqsEndpoint.vpcId': 'vpcId',
  'sqsEndpoint.securityGroupId': 'securityGroupId',
  logRetention: 'logRetentionDays',
};

/** The context key a prop path comes from (its first, for a path several keys set). */
export function keyOfPath(path: string): string {
  return (KEY_OF_PATH[path] ?? path.replace(/^detection\./, '')).split(',')[0] ?? path;
}

export function contextNames(read: ReadContext): ProblemNames {
  return {
    name: (path) => KEY_OF_PATH[path] ?? path.replace(/^detection\./, ''),
    given: (path) => {
      const key = KEY_OF_PATH[path] as ContextKey | undefined;
      return key === undefined || !(key in read.given) ? undefined : { value: read.given[key] };
    },
    setting: (path, value) => `-c ${KEY_OF_PATH[path] ?? path}=${value}`,
  };
}
