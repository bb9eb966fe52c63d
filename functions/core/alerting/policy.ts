import { compileGroups, type GroupResolver, type GroupRule } from './groups.ts';
import { compileMaintenance, type MaintenanceWindow } from './maintenance.ts';

/** The rules document's alerting fields (docs/alerting-groups.md). */
export interface AlertingRules {
  readonly groups?: readonly GroupRule[];
  readonly maintenance?: readonly MaintenanceWindow[];
}

/** The alerting rules compiled once per rules snapshot, for the batch and the silence check. */
export interface AlertingPolicy {
  readonly groupOf: GroupResolver;
  /** Whether a reading of the sensor at this event time is inside a maintenance window. */
  readonly muted: (sensorId: string, eventTimeMs: number) => boolean;
  /** False when the rules group nothing: the batch skips the grouping step. */
  readonly grouping: boolean;
  /** False when the rules have no window: the judge asks nothing per reading. */
  readonly maintenance: boolean;
}

export const NO_ALERTING: AlertingPolicy = {
  groupOf: () => null,
  muted: () => false,
  grouping: false,
  maintenance: false,
};

/** Throws a CoreConfigError naming the group rule or window at fault. */
export function compileAlerting(rules: AlertingRules): AlertingPolicy {
  const groups = rules.groups ?? [];
  const windows = rules.maintenance ?? [];
  if (groups.length === 0 && windows.length === 0) return NO_ALERTING;
  const groupOf = compileGroups(groups);
  const inWindow = compileMaintenance(windows);
  return {
    groupOf,
    muted: (sensorId, t) => inWindow(sensorId, groupOf(sensorId)?.key ?? null, t),
    grouping: groups.length > 0,
    maintenance: windows.length > 0,
  };
}
