import type { z } from 'zod';
import { KAFKA_MAX_TIMEOUT_SECONDS } from './kafka/source-config.ts';

// One-line problems from zod issues, for construct props and CDK context keys alike.

/** Keys whose value carries a unit in its name: a unit in the value is a common mistake. */
const UNIT_SUFFIX =
  /(Mb|Seconds|Days|Minutes|Percent|Records|Readings|Pollers|Attempts|Concurrency|Size)$/;

/** Extra words for a key whose limit has a reason the user should read. */
const LIMIT_REASONS: Readonly<Record<string, string>> = {
  timeoutSeconds: `: Kafka event source mappings only support functions with a timeout of at most 14 minutes (${KAFKA_MAX_TIMEOUT_SECONDS} s)`,
  batchSize: ': the limit of a Kafka event source mapping',
  batchingWindowSeconds: ': the limit of a Kafka event source mapping',
  alarmNoRecordsMinutes:
    ' (one day, the longest a CloudWatch alarm can look back); 0 turns the alarm off',
};

/** A zod issue as a sentence a user can act on, e.g. "must be true or false". */
export function describeIssue(key: string, issue: z.core.$ZodIssue): string {
  const reason = LIMIT_REASONS[key] ?? '';
  switch (issue.code) {
    case 'invalid_union': {
      const expectsBoolean = issue.errors.some((branch) =>
        branch.some((i) => i.code === 'invalid_type' && i.expected === 'boolean'),
      );
      return expectsBoolean
        ? 'must be true or false'
        : 'must be a comma-separated list (or a JSON array in cdk.json)';
    }
    case 'invalid_type': {
      const unit = UNIT_SUFFIX.test(key) ? ', without a unit' : '';
      if (issue.expected === 'number') return `must be a number${unit}`;
      if (issue.expected === 'int') return `must be a whole number${unit}`;
      return `must be a ${issue.expected}`;
    }
    case 'too_small':
      if (issue.origin === 'array') return `must list at least ${issue.minimum} value`;
      if (issue.origin === 'string') return 'must not be empty';
      return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}${reason}`;
    case 'too_big':
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}${reason}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    default:
      // Our own messages (regex, email, refine) are already sentences.
      return issue.message;
  }
}
