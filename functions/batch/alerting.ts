import { decideGroups, type GroupPeriod } from '../core/alerting/groups.ts';
import type { AlertingPolicy } from '../core/alerting/policy.ts';
import type { AlertDecision } from '../core/types.ts';
import type { PartitionRoot } from './state.ts';

export interface CommitAlerts {
  readonly outbox: AlertDecision[];
  /** The root's alert-group periods after this commit (absent: none). */
  readonly groups?: readonly GroupPeriod[];
  readonly grouped: number;
  readonly groupAlerts: number;
}

/**
 * A commit's outbox with its alert groups applied (docs/alerting-groups.md): decided within
 * the partition, from its own root's group periods, so the batch path stays one writer per
 * item. Exact for a group whose sensors share the partition (key records by group, e.g. the
 * repartition step's `groupDepth`); a group spread over partitions is grouped per partition.
 */
export function commitAlerts(
  policy: AlertingPolicy | undefined,
  alerts: AlertDecision[],
  root: PartitionRoot | null,
): CommitAlerts {
  if (policy === undefined || !policy.grouping)
    return { outbox: alerts, grouped: 0, groupAlerts: 0 };
  const d = decideGroups(alerts, policy.groupOf, root?.groups ?? []);
  return {
    outbox: d.alerts,
    ...(d.periods.length === 0 ? {} : { groups: d.periods }),
    grouped: d.grouped,
    groupAlerts: d.groupAlerts,
  };
}
