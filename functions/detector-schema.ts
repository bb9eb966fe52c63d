import { z } from 'zod';
import { alertingFields } from './alerting-schema.ts';
import type { CatalogueKind } from './core/detector-parameters.ts';
import type { DetectorRule } from './core/detector-rules.ts';
import { DETECTOR_SETTINGS, type DetectorSetting } from './core/detector-settings.ts';
import type { DetectorSpec } from './core/detectors.ts';

/**
 * The zod schemas of detectors, rules, field mappings and rules files as JSON, and of one
 * detector setting as text or JSON: the one description that the function's variables, the
 * rules file, the stored rules document and the CDK props are all checked against.
 */

/** A setting's zod schema: `coerce` for text (variables), plain for JSON (rules files). */
export function settingSchema(s: DetectorSetting, coerce: boolean): z.ZodType {
  if (s.type === 'enum') return z.enum(s.values as [string, ...string[]]);
  let n = (coerce ? z.coerce.number() : z.number()).finite();
  if (s.type === 'integer') n = n.int();
  if (s.min !== undefined) n = s.minExclusive ? n.gt(s.min) : n.min(s.min);
  if (s.max !== undefined) n = s.maxExclusive ? n.lt(s.max) : n.max(s.max);
  return n;
}

const limitsSchema = z
  .strictObject({
    high: z.number().finite().optional(),
    low: z.number().finite().optional(),
  })
  .refine((l) => l.high !== undefined || l.low !== undefined, 'give high, low or both')
  .refine((l) => l.high === undefined || l.low === undefined || l.low <= l.high, {
    message: 'low must not be above high',
  });
const directionSchema = z.enum(['both', 'up', 'down']);

/** A detector kind's rules-file schema: its catalogued parameters with defaults, and the guards. */
function kindSchema(kind: Exclude<CatalogueKind, 'limits'>) {
  const shape: Record<string, z.ZodType> = { kind: z.literal(kind) };
  for (const s of DETECTOR_SETTINGS) {
    if (s.kind === kind) shape[s.parameter] = settingSchema(s, false).default(s.default as never);
  }
  return z.strictObject({
    limits: limitsSchema.optional(),
    direction: directionSchema.optional(),
    ...shape,
  });
}

/** One detector as JSON; omitted parameters take their defaults, unknown keys are errors. */
export const detectorSpecSchema = z.discriminatedUnion('kind', [
  kindSchema('threshold'),
  kindSchema('zscore'),
  kindSchema('ewma'),
  kindSchema('adaptive'),
  kindSchema('robust'),
  z
    .strictObject({
      kind: z.literal('limits'),
      high: z.number().finite().optional(),
      low: z.number().finite().optional(),
      direction: directionSchema.optional(),
    })
    .refine((l) => l.high !== undefined || l.low !== undefined, 'give high, low or both')
    .refine((l) => l.high === undefined || l.low === undefined || l.low <= l.high, {
      message: 'low must not be above high',
    }),
]) as unknown as z.ZodType<DetectorSpec>;

/**
 * Rules as JSON: `[{"match": "boiler_*", "detector": {"kind": "zscore", "sigma": 4}}]`; a rule
 * may name the Kafka `topic` it applies to (an exact name or a glob, docs/rules.md).
 */
export const detectorRulesSchema = z.array(
  z
    .strictObject({
      match: z.string().min(1),
      topic: z.string().min(1).optional(),
      detector: detectorSpecSchema,
      /** Absolute limits beside the detector: a reading beyond them alerts whatever it says. */
      limits: limitsSchema.optional(),
      /** A sensor that reported and then stays silent this long raises a `silent` alert (docs/silence.md). */
      silenceSeconds: z.number().int().positive().optional(),
      /** Older readings' anomalies go to the digest only (docs/alerting.md); 0: never stale. */
      freshnessSeconds: z.number().int().nonnegative().optional(),
    })
    .transform(({ limits, ...rule }): DetectorRule => {
      if (limits === undefined) return rule as DetectorRule;
      const d = rule.detector as DetectorSpec;
      const detector = (
        d.kind === 'limits' ? { ...d, ...limits } : { ...d, limits: { ...d.limits, ...limits } }
      ) as DetectorSpec;
      return { ...rule, detector } as DetectorRule;
    }),
);

/** Where a record's sensor id, value and timestamp are (docs/input-formats.md). */
const fieldPath = z
  .string()
  .regex(/^[^.\s]+(?:\.[^.\s]+)*$/, 'a field name, or names joined by dots');
export const fieldMappingSchema = z.strictObject({
  sensorId: fieldPath.optional(),
  value: fieldPath.optional(),
  timestamp: fieldPath.optional(),
  measurements: z.array(fieldPath).min(1).optional(),
});

/**
 * A rules file (docs/detectors.md): either a plain array of rules, or an object with an
 * optional `default` detector for every sensor no rule matches, and the rules.
 */
export const rulesFileSchema = z.union([
  detectorRulesSchema,
  z.strictObject({
    default: detectorSpecSchema.optional(),
    /** For sensors whose rule sets none (docs/silence.md). */
    silenceSeconds: z.number().int().positive().optional(),
    /** For sensors whose rule sets none (docs/alerting.md); 0: never stale. */
    freshnessSeconds: z.number().int().nonnegative().optional(),
    /** How records become readings, for every topic (docs/input-formats.md). */
    readingFields: fieldMappingSchema.optional(),
    /** The same per Kafka topic, before `readingFields`. */
    topicReadingFields: z.record(z.string().min(1), fieldMappingSchema).optional(),
    rules: detectorRulesSchema.default([]),
    ...alertingFields,
  }),
]);
