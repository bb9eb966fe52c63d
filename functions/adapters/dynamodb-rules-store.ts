import { createHash } from 'node:crypto';
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { RULES_ITEM_KEY_VALUE, TABLE_SCHEMA } from './dynamodb-table.ts';

/**
 * The rules document's item in the detector's table (docs/rules.md): one item, beside the
 * partitions' state items (`root#…`, `page#…`, `seen#…`, `silence#…`, whose keys all contain `#`), and
 * without the TTL attribute, so it never expires.
 */
export const RULES_ITEM_KEY = {
  [TABLE_SCHEMA.partitionKey]: { S: RULES_ITEM_KEY_VALUE },
  [TABLE_SCHEMA.sortKey]: { S: RULES_ITEM_KEY_VALUE },
} as const;

/** The stored rules document as it was written, and who wrote which version when. */
export interface StoredRules {
  /** The rules file's text, as written (validated by the CLI, not by DynamoDB). */
  readonly document: string;
  /** 1 for the first put, +1 for each put or delete after: never reused. */
  readonly version: number;
  /** ISO 8601. */
  readonly updatedAt: string;
  readonly updatedBy: string;
  /** sha256 of `document`, hex: says whether two documents are the same without reading both. */
  readonly sha256: string;
  /**
   * A fresh random id per write (the sha256 for an item written without one): a warm cache
   * compares it beside the version, so even an item written around the CLI that reuses a
   * version number is read as new.
   */
  readonly writeId: string;
}

/**
 * The rules item as stored: the document, or none. A deleted document leaves a tombstone
 * (the item without `document`, its version kept), so the next put is the highest version
 * ever + 1 and no version number is ever reused (docs/rules.md).
 */
export interface RulesItem {
  readonly stored: StoredRules | null;
  /** The item's version, a tombstone's included; null: never written. */
  readonly itemVersion: number | null;
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
    return (await this.readItem(options)).stored;
  }

  /** The item, a tombstone included (the CLI writes on top of its version). */
  async readItem(options: { consistent?: boolean } = {}): Promise<RulesItem> {
    const out = await this.options.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: RULES_ITEM_KEY,
        ConsistentRead: options.consistent ?? false,
      }),
    );
    const item = out.Item;
    if (item === undefined) return { stored: null, itemVersion: null };
    const version = Number(item.version?.N ?? 0);
    const document = item.document?.S;
    if (document === undefined) return { stored: null, itemVersion: version };
    const sha256 = item.sha256?.S ?? documentHash(document);
    return {
      itemVersion: version,
      stored: {
        document,
        version,
        updatedAt: item.updatedAt?.S ?? '',
        updatedBy: item.updatedBy?.S ?? '',
        sha256,
        writeId: item.writeId?.S ?? sha256,
      },
    };
  }
}
