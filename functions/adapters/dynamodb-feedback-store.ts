import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { FEEDBACK_VERDICTS, type FeedbackRecord, type FeedbackVerdict } from '../core/feedback.ts';
import { FEEDBACK_PARTITION_KEY_VALUE, TABLE_SCHEMA } from './dynamodb-table.ts';

/**
 * The verdicts on alerts (docs/feedback.md): one item per alert id under one partition key,
 * `feedback`, beside the partitions' state items (whose keys all contain `#`) and the rules
 * item. Written only by the operators' CLI and the feedback API; batches only read them, so
 * no batch writes outside its own Kafka partition (docs/state.md).
 *
 * An item holds ids of at most 256 + 512 bytes and a note of at most 500 characters: far
 * below DynamoDB's 400 KB item limit. A fleet's verdicts are read a page at a time (a Query
 * returns at most 1 MB per call), at most MAX_FEEDBACK_ITEMS of them.
 */
export const MAX_FEEDBACK_ITEMS = 20_000;

/** What a batch needs of a verdict: the rest (who, note, value) is for people. */
const BATCH_ATTRIBUTES = [
  TABLE_SCHEMA.sortKey,
  'sensorId',
  'verdict',
  'score',
  'recordedAtMs',
  'expiresAtMs',
  'test',
];

export interface FeedbackList {
  readonly records: FeedbackRecord[];
  /** Items that are not verdicts (written around the CLI): skipped. */
  readonly invalid: number;
  /** More than MAX_FEEDBACK_ITEMS: the pages past them (by alert id) were not read. */
  readonly truncated: boolean;
}

/**
 * Reads the verdicts: all a batch does with them (Query). The operators' CLI and the feedback
 * API write them (functions/feedback/feedback-writer.ts).
 */
export class DynamoDbFeedbackStore {
  constructor(private readonly options: { client: DynamoDBClient; tableName: string }) {}

  /**
   * Every stored verdict, page by page. `forBatch` reads only what a batch needs (a
   * ProjectionExpression), so a fleet's notes do not cost the detector read units.
   */
  async list(options: { forBatch?: boolean; consistent?: boolean } = {}): Promise<FeedbackList> {
    const records: FeedbackRecord[] = [];
    let invalid = 0;
    let start: Record<string, AttributeValue> | undefined;
    const names = Object.fromEntries(BATCH_ATTRIBUTES.map((a, i) => [`#a${i}`, a]));
    do {
      const page = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: {
            '#pk': TABLE_SCHEMA.partitionKey,
            ...(options.forBatch === true ? names : {}),
          },
          ExpressionAttributeValues: { ':pk': { S: FEEDBACK_PARTITION_KEY_VALUE } },
          ...(options.forBatch === true
            ? { ProjectionExpression: Object.keys(names).join(', ') }
            : {}),
          ConsistentRead: options.consistent ?? false,
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      for (const item of page.Items ?? []) {
        const r = feedbackFromItem(item);
        if (r === null) invalid += 1;
        else records.push(r);
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined && records.length < MAX_FEEDBACK_ITEMS);
    return { records, invalid, truncated: start !== undefined };
  }
}

export const feedbackKey = (alertId: string): Record<string, AttributeValue> => ({
  [TABLE_SCHEMA.partitionKey]: { S: FEEDBACK_PARTITION_KEY_VALUE },
  [TABLE_SCHEMA.sortKey]: { S: alertId },
});

export function feedbackItem(r: FeedbackRecord): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    ...feedbackKey(r.alertId),
    sensorId: { S: r.sensorId },
    verdict: { S: r.verdict },
    recordedAtMs: { N: String(r.recordedAtMs) },
    expiresAtMs: { N: String(r.expiresAtMs) },
    // DynamoDB TTL removes the item some time after it expires; batches stop using it at
    // expiresAtMs whether or not it is gone yet.
    [TABLE_SCHEMA.ttlAttribute]: { N: String(Math.ceil(r.expiresAtMs / 1000)) },
    by: { S: r.by },
  };
  for (const key of ['score', 'value', 'deviation', 'limit', 'eventTimeMs'] as const) {
    const v = r[key];
    if (v !== undefined) item[key] = { N: String(v) };
  }
  if (r.detector !== undefined) item.detector = { S: r.detector };
  if (r.test !== undefined) item.test = { S: r.test };
  if (r.note !== undefined) item.note = { S: r.note };
  return item;
}

export function feedbackFromItem(item: Record<string, AttributeValue>): FeedbackRecord | null {
  const s = (key: string) => item[key]?.S;
  const n = (key: string) => {
    const v = item[key]?.N;
    if (v === undefined) return undefined;
    const x = Number(v);
    return Number.isFinite(x) ? x : undefined;
  };
  const alertId = s(TABLE_SCHEMA.sortKey);
  const sensorId = s('sensorId');
  const verdict = s('verdict');
  const recordedAtMs = n('recordedAtMs');
  const expiresAtMs = n('expiresAtMs');
  if (
    alertId === undefined ||
    sensorId === undefined ||
    !FEEDBACK_VERDICTS.includes(verdict as FeedbackVerdict) ||
    recordedAtMs === undefined ||
    expiresAtMs === undefined
  )
    return null;
  const score = n('score');
  const optional = {
    score: score !== undefined && score >= 0 && score <= 1 ? score : undefined,
    value: n('value'),
    deviation: n('deviation'),
    limit: n('limit'),
    detector: s('detector'),
    test: s('test'),
    eventTimeMs: n('eventTimeMs'),
    note: s('note'),
  };
  return {
    alertId,
    sensorId,
    verdict: verdict as FeedbackVerdict,
    recordedAtMs,
    expiresAtMs,
    by: s('by') ?? '',
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
}
