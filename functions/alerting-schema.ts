import { z } from 'zod';
import { MAX_GROUP_NAME } from './core/alerting/groups.ts';
import { WEEKDAYS } from './core/alerting/maintenance.ts';

/**
 * The rules document's `groups` and `maintenance` (docs/alerting-groups.md). The shapes are
 * checked here; what needs more than a shape (a time zone, an end after its start, depth or
 * name) by compileAlerting, whose one-line errors name the entry.
 */
export const groupRuleSchema = z.strictObject({
  match: z.string().min(1).default('*'),
  depth: z.number().int().positive().optional(),
  separator: z.string().min(1).max(8).optional(),
  name: z.string().min(1).max(MAX_GROUP_NAME).optional(),
  threshold: z.number().int().positive(),
  periodSeconds: z
    .number()
    .int()
    .positive()
    .max(7 * 24 * 3600)
    .optional(),
});

export const maintenanceWindowSchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  match: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
  start: z.string().optional(),
  end: z.string().optional(),
  weekly: z
    .strictObject({
      days: z.array(z.enum(WEEKDAYS)).min(1),
      from: z.string(),
      to: z.string(),
    })
    .optional(),
  timezone: z.string().min(1).optional(),
});

export const alertingFields = {
  /** Alert groups: more than `threshold` sensors of a group alerting → one group alert. */
  groups: z.array(groupRuleSchema).max(256).optional(),
  /** Maintenance windows, one-off or weekly, by sensor or group: muted and not learned from. */
  maintenance: z.array(maintenanceWindowSchema).max(1024).optional(),
};
