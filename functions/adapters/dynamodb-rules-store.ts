import { createHash } from 'node:crypto';
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { TABLE_SCHEMA } from './dynamodb-table.ts';

/**
 * The rules document's item in the detector's table (docs/rules.md): one item, beside the
 * partitions' state items (`root#…`, `page#…`, `seen#…`, `silence#…`, whose keys all contain `#`), and
 * without the TTL attribute, so it never expires.
 */
export const RULES_ITEM_KEY = {
  [TABLE_SCHEMA.partitionKey]: { S: 'rules' },
  [TABLE_SCHEMA.sortKey]: { S: 'rules' },
} as const;

/** The stored rules document as it was written, and who wrote which version when. */
export interface StoredRules {
  /** The rules file's text, as written (validated by the CLI, not by DynamoDB). */
  readonly document: string;
  /** 1 for the first put, +1 for each one after. */
  readonly version: number;
  /** ISO 8601. */
  readonly updatedAt: string;
  readonly updatedBy: string;
  /** sha256 of `document`, hex: says whether two documents are the same without reading both. */
  readonly sha256: string;
}

export const documentHash = (document: string) =>
  createHash('sha256').update(document).digest('hex');

/**
 * Reads the rules item: all the function does with it (GetItem). The operators' CLI writes it
 * (local/rules/rules-writer.ts).
 */
export class DynamoDbRulesStore {
  constructor(private readonly options: { client: DynamoDBClient; tableName: string }) {}

  /**
   * The stored document, or null when there is none. Eventually consistent by default: a
   * read of an item up to 4 KB costs one-half read request unit, a strongly consistent one a
   * whole unit (DynamoDB on-demand pricing, https://aws.amazon.com/dynamodb/pricing/on-demand/);
   * the function reads it every cache period, and a put reaches it within about a second.
   */
  async get(options: { consistent?: boolean } = {}): Promise<StoredRules | null> {
    const out = await this.options.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: RULES_ITEM_KEY,
        ConsistentRead: options.consistent ?? false,
      }),
    );
    const item = out.Item;
    if (item === undefined) return null;
    const document = item.document?.S ?? '';
    return {
      document,
      version: Number(item.version?.N ?? 0),
      updatedAt: item.updatedAt?.S ?? '',
      updatedBy: item.updatedBy?.S ?? '',
      sha256: item.sha256?.S ?? documentHash(document),
    };
  }
}
