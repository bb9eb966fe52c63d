import { z } from 'zod';
import { detectionEnvironment } from '../detection.ts';
import {
  consumerGroupIds,
  KAFKA_MAX_TIMEOUT_SECONDS,
  type KafkaSourceConfig,
} from '../kafka-source.ts';
import type { SensorAnomalyDetectorProps } from './detector-props.ts';
import { networkPlan } from './network-plan.ts';
import type { Problem } from './problems.ts';
import {
  BROKERS,
  checkValues,
  EMAILS,
  EVENT_BUS,
  int,
  PHONE_NUMBERS,
  RETENTION,
  SECURITY_GROUP_ID,
  SUBNET_IDS,
  TOPIC_NAME,
  VPC_ID,
} from './value-schemas.ts';

export interface CheckOptions {
  /** For the longest names CloudFormation may give the table and topic. */
  readonly stackName: string;
  /**
   * The Kafka source with its defaults (the construct's consumer group). undefined: no
   * `kafkaSource`; 'unchecked': its props have problems of their own, so the checks that
   * need it are left out.
   */
  readonly source: KafkaSourceConfig | undefined | 'unchecked';
  /** Where a relative `detection.detectorRulesFile` is resolved from. @default process.cwd() */
  readonly cwd?: string;
}

/**
 * Every problem with the detector's props, one line each with the prop and the bad value:
 * the construct throws them, the CDK-context layer prints them with its keys. `kafkaSource`
 * was checked by its factory.
 */
export function detectorPropsProblems(
  props: SensorAnomalyDetectorProps,
  options: CheckOptions,
): Problem[] {
  const problems = checkValues([
    ['memorySizeMb', int(128, 10_240), props.memorySizeMb],
    ['timeoutSeconds', int(1, KAFKA_MAX_TIMEOUT_SECONDS), props.timeoutSeconds],
    ['logRetention', RETENTION, props.logRetention],
    [
      'removalPolicy',
      z.enum(['destroy', 'retain', 'snapshot', 'retain-on-update-or-delete']),
      props.removalPolicy,
    ],
    ['alertEmails', EMAILS, props.alertEmails],
    ['alertSmsNumbers', PHONE_NUMBERS, props.alertSmsNumbers],
    ['smsCriticalOnly', z.boolean(), props.smsCriticalOnly],
    ['opsEmails', EMAILS, props.opsEmails],
    ['alarmOffsetLagRecords', int(1, Number.MAX_SAFE_INTEGER), props.alarmOffsetLagRecords],
    ['alarmRejectedPercent', z.number().finite().gt(0).max(100), props.alarmRejectedPercent],
    ['alarmNoRecordsMinutes', int(0, 1440), props.alarmNoRecordsMinutes],
    [
      'smsMonthlySpendLimitUsd',
      z.number().finite().gt(0).max(1_000_000),
      props.smsMonthlySpendLimitUsd,
    ],
    ['sqsEndpoint.vpcId', VPC_ID, props.sqsEndpoint?.vpcId],
    ['sqsEndpoint.subnetIds', SUBNET_IDS.min(1), props.sqsEndpoint?.subnetIds],
    ['sqsEndpoint.securityGroupId', SECURITY_GROUP_ID, props.sqsEndpoint?.securityGroupId],
    ['tracing', z.boolean(), props.tracing],
    ['anomaliesTopic.topic', TOPIC_NAME, props.anomaliesTopic?.topic],
    ['anomaliesTopic.bootstrapServers', BROKERS, props.anomaliesTopic?.bootstrapServers],
    ['network.vpcId', VPC_ID, props.network?.vpcId],
    ['network.subnetIds', SUBNET_IDS.min(1), props.network?.subnetIds],
    ['network.securityGroupId', SECURITY_GROUP_ID, props.network?.securityGroupId],
    [
      'network.awsAccess',
      z.enum(['create-endpoints', 'vpc-endpoints', 'nat-gateway']),
      props.network?.awsAccess,
    ],
    [
      'network.routeTableIds',
      z.array(z.string().regex(/^rtb-[0-9a-f]+$/, 'must be route table ids (rtb-...)')),
      props.network?.routeTableIds,
    ],
    ['network.endpointSubnetIds', SUBNET_IDS.min(1), props.network?.endpointSubnetIds],
    ['anomaliesEventBus', EVENT_BUS, props.anomaliesEventBus],
    ['silenceCheckMinutes', int(0, 1440), props.silenceCheckMinutes],
    ['silenceCheckReservedConcurrency', int(1, 1000), props.silenceCheckReservedConcurrency],
    ['repartition.keyDepth', int(1, 32), props.repartition?.keyDepth],
    ['windowFlushMinutes', int(1, 1440), props.windowFlushMinutes],
  ]);
  problems.push(...tableProblems(props));
  if (props.alertTopicKey !== undefined && props.alertTopic === undefined)
    problems.push({
      path: 'alertTopicKey',
      message: 'only with {{alertTopic}} (the created topic has its own key)',
    });
  const detection = detectionEnvironment(props.detection, {
    stackName: options.stackName,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  problems.push(...detection.problems.map(detectionProblem));
  if (options.source !== 'unchecked') {
    problems.push(...sourceProblems(options.source));
    problems.push(...anomaliesTopicProblems(props, options.source));
    problems.push(...networkProblems(props, options.source));
  }
  return problems;
}

/** The detection checks' lines (detection.ts) name their key first: `windowSeconds: …`. */
function detectionProblem(line: string): Problem {
  const key = /^([a-z][A-Za-z0-9]*): /.exec(line)?.[1];
  return { path: key === undefined ? 'detection' : `detection.${key}`, message: line, whole: true };
}

/** Checks that need the consumer groups the construct derives. */
function sourceProblems(source: KafkaSourceConfig | undefined): Problem[] {
  if (source === undefined) return [];
  return consumerGroupIds(source)
    .filter((group) => group.length > 200)
    .map((group) => ({
      path: 'kafkaSource.consumerGroupId',
      message: `"${group}" exceeds 200 characters`,
    }));
}

function tableProblems(props: SensorAnomalyDetectorProps): Problem[] {
  const problems: Problem[] = [];
  if (props.table !== undefined) {
    for (const key of ['tableCapacity', 'tableDeletionProtection'] as const)
      if (props[key] !== undefined)
        problems.push({
          path: key,
          message: 'only for the table the construct creates ({{table}} is given)',
        });
  }
  const capacity = props.tableCapacity;
  if (capacity === undefined) return problems;
  for (const kind of ['Read', 'Write'] as const) {
    const min = capacity[`min${kind}Capacity`];
    const max = capacity[`max${kind}Capacity`];
    if (!Number.isInteger(min) || min < 1)
      problems.push({
        path: `tableCapacity.min${kind}Capacity`,
        message: 'must be a whole number ≥ 1',
        got: { value: min },
      });
    if (!Number.isInteger(max) || max < min)
      problems.push({
        path: `tableCapacity.max${kind}Capacity`,
        message: `must be a whole number ≥ min${kind}Capacity (${min})`,
        got: { value: max },
      });
  }
  const target = capacity.targetUtilizationPercent;
  // Application Auto Scaling's target tracking for DynamoDB takes 20-90 percent.
  if (target !== undefined && !(target >= 20 && target <= 90))
    problems.push({
      path: 'tableCapacity.targetUtilizationPercent',
      message: 'must be 20-90',
      got: { value: target },
    });
  return problems;
}

/**
 * The anomalies topic is on the mapping's cluster: it needs the source, brokers (MSK: given)
 * and, when the function joins a VPC to reach them, a way from that VPC to AWS APIs.
 */
function anomaliesTopicProblems(
  props: SensorAnomalyDetectorProps,
  source: KafkaSourceConfig | undefined,
): Problem[] {
  const t = props.anomaliesTopic;
  if (t === undefined) return [];
  if (source === undefined)
    return [
      {
        path: 'anomaliesTopic.topic',
        message: 'needs {{kafkaSource}} (the anomalies topic is on its cluster, with its auth)',
      },
    ];
  const problems: Problem[] = [];
  if (source.topics.includes(t.topic))
    problems.push({
      path: 'anomaliesTopic.topic',
      message: 'must not be one of the topics the function reads',
      got: { value: t.topic },
    });
  if (source.kind === 'msk') {
    if (t.bootstrapServers === undefined)
      problems.push({
        path: 'anomaliesTopic.bootstrapServers',
        message: `required with {{anomaliesTopic.topic}} on MSK: the cluster's brokers for ${source.auth} (aws kafka get-bootstrap-brokers)`,
        got: 'missing',
      });
    if (props.network === undefined)
      problems.push({
        path: 'anomaliesTopic.topic',
        message:
          'on MSK needs {{network}} of the cluster (the functions join its VPC to reach the brokers)',
      });
  }
  return problems;
}

/**
 * Functions in a VPC reach AWS APIs only through it: synth fails until the props say how,
 * naming exactly the endpoints the functions need; with `create-endpoints` the construct
 * creates them, and the DynamoDB gateway needs the subnets' route tables.
 */
function networkProblems(
  props: SensorAnomalyDetectorProps,
  source: KafkaSourceConfig | undefined,
): Problem[] {
  const problems: Problem[] = [];
  const registry = props.schemaRegistry;
  if (registry?.kind === 'confluent' && registry.inNetwork === true && props.network === undefined)
    problems.push({
      path: 'schemaRegistry.inNetwork',
      message:
        'needs {{network}} (the VPC, subnets and security group the function reaches the registry from)',
    });
  if (props.repartition !== undefined && source?.kind === 'msk') {
    if (props.repartition.bootstrapServers === undefined)
      problems.push({
        path: 'repartition.bootstrapServers',
        message: "required on MSK: the cluster's brokers (aws kafka get-bootstrap-brokers)",
        got: 'missing',
      });
    if (props.network === undefined)
      problems.push({
        path: 'repartition',
        message:
          'on MSK needs {{network}} of the cluster (the function joins it to reach the brokers)',
      });
  }
  const plan = networkPlan(props, source);
  const network = plan.network;
  const joins = plan.detectorJoins || plan.silenceCheckJoins || plan.repartitionJoins;
  const access = network?.awsAccess;
  const chosen = network?.endpointSubnetIds ?? [];
  const foreign = chosen.filter((id) => !network?.subnetIds.includes(id));
  if (foreign.length > 0)
    problems.push({
      path: 'network.endpointSubnetIds',
      message: `must be among {{network.subnetIds}} (${network?.subnetIds.join(',')})`,
      got: { value: foreign },
    });
  if (network === undefined || !joins) {
    if (access !== undefined)
      problems.push({
        path: 'network.awsAccess',
        message:
          'only used when a function joins {{network}} (for the anomalies topic, a schema registry inNetwork or the repartition step)',
        got: { value: access },
      });
    return problems;
  }
  if (access === undefined && plan.apis.length > 0) {
    // "To give your function access to the internet, route outbound traffic to a NAT gateway
    // in a public subnet" and "Connecting a function to a VPC ... [it] can't access the
    // internet" without one (Lambda developer guide, "Giving Lambda functions access to
    // resources in an Amazon VPC", https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html).
    const interfaces = plan.apis.filter((api) => api !== 'dynamodb');
    const needs = [
      ...(plan.apis.includes('dynamodb')
        ? [
            'a DynamoDB gateway endpoint (com.amazonaws.<region>.dynamodb) on the subnets’ route tables',
          ]
        : []),
      ...(interfaces.length === 0
        ? []
        : [`interface endpoints with private DNS for ${listed(interfaces)}`]),
    ].join(', ');
    problems.push({
      path: 'network.awsAccess',
      message: `the functions join ${network.vpcId} to reach ${listed([...plan.reasons])} and then reach AWS only through it: give its subnets (${network.subnetIds.join(', ')}) a NAT gateway, or ${needs}; then set {{network.awsAccess}} ('create-endpoints' to have the construct create them, 'vpc-endpoints' or 'nat-gateway')`,
      got: 'missing',
    });
  }
  if (
    access === 'create-endpoints' &&
    plan.apis.includes('dynamodb') &&
    network.routeTableIds === undefined
  )
    problems.push({
      path: 'network.routeTableIds',
      message: `required with {{network.awsAccess=create-endpoints}}: the DynamoDB gateway endpoint is a route in the route tables of ${network.subnetIds.join(', ')}`,
      got: 'missing',
    });
  return problems;
}

/** "a", "a and b", "a, b and c" */
function listed(items: readonly string[]): string {
  return items.length <= 1
    ? (items[0] ?? '')
    : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
