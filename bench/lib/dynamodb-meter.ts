import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';

type Item = Record<string, AttributeValue>;

/** What kind of item a request touched, from its key (layout in dynamodb-table.ts). */
export type ItemKind = 'root' | 'dict' | 'bucket' | 'state' | 'other';

export interface MeterTotals {
  /** Requests by command name (PutItemCommand, BatchGetItemCommand, …). */
  readonly requests: Record<string, number>;
  /** Write requests (PutItem, UpdateItem) by item kind. */
  readonly writesByKind: Record<ItemKind, number>;
  /** Write request units by item kind: ceil(max(old, new item size) / 1 KB) per write. */
  readonly wruByKind: Record<ItemKind, number>;
  /** Keys asked for in BatchGetItem calls (a key retried as unprocessed counts once per ask). */
  readonly keysRequested: number;
  readonly itemsReturned: number;
  /** Read request units: strongly consistent, ceil(size / 4 KB) per item, 1 per missing key. */
  readonly rru: number;
  /** Largest item written, bytes (DynamoDB's own size rules). */
  readonly largestItemBytes: number;
  /** Conditional writes whose condition failed (billed all the same). */
  readonly failedConditionalWrites: number;
  /** Bytes written (new item sizes), for storage. */
  readonly bytesWritten: number;
  readonly bytesWrittenByKind: Record<ItemKind, number>;
}

/**
 * Counts what a DynamoDB client sends and what it would be billed, by wrapping its
 * middleware stack: request counts per command, item sizes by DynamoDB's rules
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)
 * and the request units they cost
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):
 * a write costs 1 WRU per KB of the larger of the old and the new item; BatchGetItem reads
 * each item separately, rounded up to 4 KB, 1 RRU per 4 KB when strongly consistent (0.5
 * eventually consistent). A key with no item is counted as a minimum read (an upper bound).
 */
export class DynamoDbMeter {
  private requests = new Map<string, number>();
  private writesByKind = emptyByKind();
  private wruByKind = emptyByKind();
  private keysRequested = 0;
  private itemsReturned = 0;
  private rru = 0;
  private largestItemBytes = 0;
  private failedConditionalWrites = 0;
  private bytesWritten = 0;
  private bytesWrittenByKind = emptyByKind();
  /**
   * Last known size of each item, by table and key, so a rewrite is billed on the larger of
   * old and new (the same key in a fresh table is a new item).
   */
  private readonly sizes = new Map<string, number>();
  enabled = true;

  attach(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName);
        const input = args.input as Record<string, unknown>;
        let result: Awaited<ReturnType<typeof next>>;
        try {
          result = await next(args);
        } catch (error) {
          // "If a conditional write fails, DynamoDB still consumes write capacity" (Developer
          // Guide, Condition expressions): billed on the item it tried to write.
          if (this.enabled && (error as Error).name === 'ConditionalCheckFailedException') {
            this.failedConditionalWrites += 1;
            this.requests.set(command, (this.requests.get(command) ?? 0) + 1);
            const item = input.Item as Item | undefined;
            if (item !== undefined)
              this.write(String(input.TableName), item, itemBytes(item), false);
          }
          throw error;
        }
        if (this.enabled)
          this.record(command, input, result.output as unknown as Record<string, unknown>);
        return result;
      },
      { step: 'initialize', name: `bench-meter-${Math.random()}` },
    );
  }

  reset(): void {
    this.requests = new Map();
    this.writesByKind = emptyByKind();
    this.wruByKind = emptyByKind();
    this.keysRequested = 0;
    this.itemsReturned = 0;
    this.rru = 0;
    this.largestItemBytes = 0;
    this.failedConditionalWrites = 0;
    this.bytesWritten = 0;
    this.bytesWrittenByKind = emptyByKind();
  }

  totals(): MeterTotals {
    return {
      requests: Object.fromEntries(this.requests),
      writesByKind: { ...this.writesByKind },
      wruByKind: { ...this.wruByKind },
      keysRequested: this.keysRequested,
      itemsReturned: this.itemsReturned,
      rru: this.rru,
      largestItemBytes: this.largestItemBytes,
      failedConditionalWrites: this.failedConditionalWrites,
      bytesWritten: this.bytesWritten,
      bytesWrittenByKind: { ...this.bytesWrittenByKind },
    };
  }

  private record(
    command: string,
    input: Record<string, unknown>,
    output: Record<string, unknown>,
  ): void {
    this.requests.set(command, (this.requests.get(command) ?? 0) + 1);
    switch (command) {
      case 'PutItemCommand': {
        const item = input.Item as Item;
        this.write(String(input.TableName), item, itemBytes(item));
        break;
      }
      case 'UpdateItemCommand': {
        // The baseline asks for ALL_NEW, so the item's new size is known.
        const item = (output.Attributes as Item | undefined) ?? (input.Key as Item);
        this.write(String(input.TableName), item, itemBytes(item));
        break;
      }
      case 'GetItemCommand': {
        const item = output.Item as Item | undefined;
        const consistent = input.ConsistentRead === true;
        this.keysRequested += 1;
        this.read(String(input.TableName), item, consistent);
        break;
      }
      case 'BatchGetItemCommand': {
        const requestItems = input.RequestItems as Record<
          string,
          { Keys: Item[]; ConsistentRead?: boolean }
        >;
        const responses = (output.Responses ?? {}) as Record<string, Item[]>;
        for (const [table, request] of Object.entries(requestItems)) {
          const found = responses[table] ?? [];
          const unprocessed =
            ((output.UnprocessedKeys ?? {}) as Record<string, { Keys?: Item[] }>)[table]?.Keys
              ?.length ?? 0;
          this.keysRequested += request.Keys.length;
          for (const item of found) this.read(table, item, request.ConsistentRead === true);
          const missing = request.Keys.length - found.length - unprocessed;
          for (let i = 0; i < missing; i += 1)
            this.read(table, undefined, request.ConsistentRead === true);
        }
        break;
      }
      default:
        break;
    }
  }

  private write(table: string, item: Item, bytes: number, landed = true): void {
    const kind = kindOf(item);
    const id = `${table}\u0000${item.pk?.S}\u0000${item.sk?.S}`;
    const billed = Math.max(bytes, this.sizes.get(id) ?? 0);
    if (landed) {
      this.sizes.set(id, bytes);
      this.bytesWritten += bytes;
      this.bytesWrittenByKind[kind] += bytes;
    }
    this.writesByKind[kind] += 1;
    this.wruByKind[kind] += Math.max(1, Math.ceil(billed / 1024));
    this.largestItemBytes = Math.max(this.largestItemBytes, bytes);
  }

  private read(table: string, item: Item | undefined, consistent: boolean): void {
    const units = item === undefined ? 1 : Math.max(1, Math.ceil(itemBytes(item) / 4096));
    if (item !== undefined) {
      this.itemsReturned += 1;
      this.sizes.set(`${table}\u0000${item.pk?.S}\u0000${item.sk?.S}`, itemBytes(item));
    }
    this.rru += consistent ? units : units / 2;
  }
}

/** Counts SNS API calls (Publish, PublishBatch) and the messages they carry. */
export class SnsMeter {
  calls: Record<string, number> = {};
  messages = 0;
  enabled = true;

  attach(client: SNSClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (this.enabled) {
          const command = String(context.commandName);
          this.calls[command] = (this.calls[command] ?? 0) + 1;
          const input = args.input as { PublishBatchRequestEntries?: unknown[] };
          if (command === 'PublishCommand') this.messages += 1;
          if (command === 'PublishBatchCommand')
            this.messages += input.PublishBatchRequestEntries?.length ?? 0;
        }
        return result;
      },
      { step: 'initialize', name: `bench-sns-meter-${Math.random()}` },
    );
  }

  reset(): void {
    this.calls = {};
    this.messages = 0;
  }
}

function emptyByKind(): Record<ItemKind, number> {
  return { root: 0, dict: 0, bucket: 0, state: 0, other: 0 };
}

function kindOf(item: Item): ItemKind {
  const sk = item.sk?.S ?? '';
  // The layout of functions/adapters/dynamodb-table.ts; the naive baseline's `bucket#…` too.
  if (sk === 'root') return 'root';
  if (sk === 'page') {
    // `page#<pid>#<kind letter><scope>#<chunk>#<gen>`
    const parts = (item.pk?.S ?? '').split('#');
    const letter = parts[parts.length - 3]?.[0];
    return letter === 'd' ? 'dict' : letter === 'b' ? 'bucket' : letter === 's' ? 'state' : 'other';
  }
  if (sk.startsWith('bucket#')) return 'bucket';
  return 'other';
}

/** An item's size by DynamoDB's rules: attribute names plus values, with Map/List overheads. */
export function itemBytes(item: Item): number {
  let total = 0;
  for (const [name, value] of Object.entries(item))
    total += Buffer.byteLength(name) + valueBytes(value);
  return total;
}

function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + numberBytes(s), 0);
  if (value.BS !== undefined) return value.BS.reduce((n, b) => n + b.length, 0);
  if (value.M !== undefined) {
    let n = 3;
    for (const [k, v] of Object.entries(value.M)) n += 1 + Buffer.byteLength(k) + valueBytes(v);
    return n;
  }
  if (value.L !== undefined) return value.L.reduce((n, v) => n + 1 + valueBytes(v), 3);
  return 0;
}

/** 1 byte per two significant digits, plus 1: leading and trailing zeros do not count. */
function numberBytes(text: string): number {
  const mantissa = text
    .replace(/^[+-]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '');
  const significant = mantissa.replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, significant.length) / 2) + 1;
}
