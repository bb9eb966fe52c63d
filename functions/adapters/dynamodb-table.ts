import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The one table's layout, shared by the DynamoDB adapters, the CDK stack and the local
 * pipeline so they cannot drift apart (docs/state.md).
 *
 * | item                                   | pk                                          | sk     |
 * |----------------------------------------|---------------------------------------------|--------|
 * | partition root (decided offsets, page table, outbox) | `root#<pid>`                  | `root` |
 * | page (dictionary, bucket, sensor state), immutable   | `page#<pid>#<kind><scope>#<chunk>#<gen>` | `page` |
 *
 * `<pid>` is `[<stream>#]<topic>#<partition>`: state is owned by Kafka partition. Item
 * encodings and byte budgets: functions/adapters/dynamodb/codecs.ts.
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** DynamoDB TTL attribute, epoch seconds. */
  ttlAttribute: 'expiresAtEpochSeconds',
} as const;

/**
 * Key prefixes of the silence items (functions/adapters/dynamodb-silence-store.ts). Here, with
 * no SDK import, so that the CDK construct can scope the check's writes to them.
 */
export const SILENCE_KEYS = {
  seenPrefix: 'seen#',
  partitions: 'silence#partitions',
  checkerPrefix: 'silence#checker#',
} as const;

/**
 * The digest items (functions/adapters/dynamodb-digest-store.ts): contributions under
 * `digest#<periodStartMs>` (written by the batches), and the digest function's one item, its
 * cursor, whose key begins `digest-cursor` (the only key the digest function writes).
 */
export const DIGEST_KEYS = {
  contributionPrefix: 'digest#',
  cursor: 'digest-cursor',
} as const;

/** The partition and sort key of the rules document's one item (dynamodb-rules-store.ts). */
export const RULES_ITEM_KEY_VALUE = 'rules';

/**
 * The partition key of the verdicts on alerts (dynamodb-feedback-store.ts): one item per
 * alert id (the sort key), written by operators, read by batches (docs/feedback.md).
 */
export const FEEDBACK_PARTITION_KEY_VALUE = 'feedback';

export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TABLE_SCHEMA.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE_SCHEMA.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
    ],
  };
}
