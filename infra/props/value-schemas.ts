import { z } from 'zod';
import { describeIssue } from '../zod-issues.ts';
import type { Problem } from './problems.ts';

// The shapes a prop value must have, shared by the construct's props and the KafkaSource
// factories; the CDK-context layer only turns text into these types before they are checked.

export const SECRET_ARN = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/,
    'must be the complete secret ARN, ending in the 6-character suffix',
  );
export const MSK_CLUSTER_ARN_PATTERN =
  /^arn:aws[a-z-]*:kafka:([a-z0-9-]+):(\d{12}):cluster\/([^/]+)\/([^/]+)$/;
export const KMS_KEY_ARN = z
  .string()
  .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'must be a KMS key ARN');
export const BROKERS = z.array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port'));
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
export const TOPICS = z.array(z.string().regex(TOPIC, 'must be Kafka topic names'));
export const TOPIC_NAME = z.string().regex(TOPIC, 'must be a Kafka topic name');
export const VPC_ID = z.string().regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id (vpc-...)');
export const SUBNET_IDS = z.array(
  z.string().regex(/^subnet-[0-9a-f]+$/, 'must be subnet ids (subnet-...)'),
);
export const SECURITY_GROUP_ID = z
  .string()
  .regex(/^sg-[0-9a-f]+$/, 'must be a security group id (sg-...)');
export const EMAILS = z.array(z.email('must be email addresses'));
export const PHONE_NUMBERS = z.array(
  z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be E.164 phone numbers, e.g. +14155550100'),
);
export const EVENT_BUS = z
  .string()
  .regex(
    /^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[A-Za-z0-9._\-/]{1,256}$/,
    'must be an event bus name or ARN',
  );
/** CloudWatch Logs accepts only these retention periods. */
export const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;
export const RETENTION = z
  .number()
  .refine((d) => (RETENTION_DAYS as readonly number[]).includes(d), {
    message: `must be one of ${RETENTION_DAYS.join(', ')}`,
  });
export const int = (min: number, max: number) => z.number().int().min(min).max(max);

/**
 * The value at `path` against its schema: undefined when it fits (or is not set), else the
 * first issue as one line. A list must not repeat a value either.
 */
export function checkValue(path: string, schema: z.ZodType, value: unknown): Problem | undefined {
  if (value === undefined) return undefined;
  const result = schema.safeParse(value);
  const key = path.split('.').at(-1) ?? path;
  if (!result.success) {
    const first = result.error.issues[0];
    const message = first === undefined ? 'is not valid' : describeIssue(key, first);
    return { path, message, got: { value, asGiven: true } };
  }
  if (Array.isArray(value) && new Set(value).size !== value.length)
    return { path, message: 'must not repeat a value', got: { value } };
  return undefined;
}

/** `checkValue` for several props of one object: `[path, schema, value]` each. */
export function checkValues(
  entries: ReadonlyArray<readonly [string, z.ZodType, unknown]>,
): Problem[] {
  return entries.flatMap(([path, schema, value]) => checkValue(path, schema, value) ?? []);
}
