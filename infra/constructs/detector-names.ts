import type { Construct } from 'constructs';
import { SensorAnomalyDetectorError } from '../errors.ts';

/** What a detector already took in its stack. */
export interface TakenNames {
  readonly path: string;
  readonly consumerGroups: readonly string[];
  readonly dashboardName: string;
}

/** Consumer groups and dashboard names must differ between the detectors of a stack. */
export function checkUniqueNames(
  scope: Construct,
  siblings: readonly TakenNames[],
  names: readonly string[],
  what: 'consumer group' | 'dashboard name',
): void {
  for (const other of siblings) {
    const taken = what === 'consumer group' ? other.consumerGroups : [other.dashboardName];
    const clash = names.find((n) => taken.includes(n));
    if (clash !== undefined)
      throw new SensorAnomalyDetectorError(
        `${scope.node.path}: ${what} "${clash}" is already used by ${other.path} in this stack; give each detector its own${what === 'consumer group' ? ' (a Kafka event source mapping needs a group id of its own)' : ''}`,
      );
  }
}
