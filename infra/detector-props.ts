import { TARGET_UTILIZATION_PERCENT } from './constructs/window-table.ts';
import { KAFKA_MAX_TIMEOUT_SECONDS } from './kafka-source.ts';
import type { SensorAnomalyDetectorProps } from './sensor-anomaly-detector.ts';

/** The values of the optional props that have one whatever else is set. */
export const DETECTOR_DEFAULTS = {
  memorySizeMb: 1024,
  timeoutSeconds: 60,
  logRetentionDays: 30,
  alarmOffsetLagRecords: 10_000,
  alarmRejectedPercent: 5,
  alarmNoRecordsMinutes: 15,
  silenceCheckMinutes: 1,
  /** Provisioned capacity's auto scaling target. */
  targetUtilizationPercent: TARGET_UTILIZATION_PERCENT,
} as const;

/** The props' own limits, as one line each. */
export function checkProps(props: SensorAnomalyDetectorProps): string[] {
  const problems: string[] = [];
  const timeoutSeconds = props.timeoutSeconds ?? DETECTOR_DEFAULTS.timeoutSeconds;
  if (timeoutSeconds > KAFKA_MAX_TIMEOUT_SECONDS || timeoutSeconds < 1) {
    problems.push(
      `timeoutSeconds must be 1-${KAFKA_MAX_TIMEOUT_SECONDS}: Kafka event source mappings only support functions with a timeout of at most 14 minutes (got ${timeoutSeconds})`,
    );
  }
  const bounds: [keyof SensorAnomalyDetectorProps, number, number, string][] = [
    ['memorySizeMb', 128, 10_240, ''],
    ['alarmOffsetLagRecords', 1, Number.MAX_SAFE_INTEGER, ''],
    [
      'alarmNoRecordsMinutes',
      0,
      1440,
      ' (one day, the longest a CloudWatch alarm can look back); 0 turns the alarm off',
    ],
    ['silenceCheckMinutes', 0, 1440, ''],
    ['silenceCheckReservedConcurrency', 1, 1000, ''],
    ['windowFlushMinutes', 1, 1440, ''],
  ];
  for (const [key, min, max, reason] of bounds) {
    const value = props[key];
    if (
      value !== undefined &&
      !(Number.isInteger(value) && (value as number) >= min && (value as number) <= max)
    )
      problems.push(
        `${key}: must be a whole number from ${min} to ${max}${reason} (got ${JSON.stringify(value)})`,
      );
  }
  const rejected = props.alarmRejectedPercent;
  if (rejected !== undefined && !(rejected > 0 && rejected <= 100))
    problems.push(`alarmRejectedPercent: must be greater than 0 and at most 100 (got ${rejected})`);
  if (props.table !== undefined) {
    for (const key of ['tableCapacity', 'tableDeletionProtection'] as const)
      if (props[key] !== undefined)
        problems.push(`${key}: only for the table the construct creates (table is given)`);
  }
  const capacity = props.tableCapacity;
  if (capacity !== undefined) {
    for (const kind of ['Read', 'Write'] as const) {
      const min = capacity[`min${kind}Capacity`];
      const max = capacity[`max${kind}Capacity`];
      if (!Number.isInteger(min) || min < 1)
        problems.push(`tableCapacity.min${kind}Capacity: must be a whole number ≥ 1 (got ${min})`);
      if (!Number.isInteger(max) || max < min)
        problems.push(
          `tableCapacity.max${kind}Capacity: must be a whole number ≥ min${kind}Capacity (${min}) (got ${max})`,
        );
    }
    const target = capacity.targetUtilizationPercent;
    // Application Auto Scaling's target tracking for DynamoDB takes 20-90 percent.
    if (target !== undefined && !(target >= 20 && target <= 90))
      problems.push(`tableCapacity.targetUtilizationPercent: must be 20-90 (got ${target})`);
  }
  if (props.alertTopicKey !== undefined && props.alertTopic === undefined)
    problems.push('alertTopicKey: only with alertTopic (the created topic has its own key)');
  const endpointSubnets = props.sqsEndpoint?.subnetIds ?? [];
  if (props.sqsEndpoint !== undefined && endpointSubnets.length === 0)
    problems.push('sqsEndpoint.subnetIds: must list at least one subnet');
  if (new Set(endpointSubnets).size !== endpointSubnets.length)
    problems.push(
      `sqsEndpoint.subnetIds: must not repeat a subnet (got ${endpointSubnets.join(', ')})`,
    );
  return problems;
}
