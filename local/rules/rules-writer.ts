import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDbRulesStore,
  documentHash,
  RULES_ITEM_KEY,
  type StoredRules,
} from '../../functions/adapters/dynamodb-rules-store.ts';
import { TABLE_SCHEMA } from '../../functions/adapters/dynamodb-table.ts';

/** A write that did not find the version it expected: someone changed the rules meanwhile. */
export class RulesVersionConflict extends Error {
  override readonly name = 'RulesVersionConflict';
}

/**
 * The operators' side of the rules item (`npm run rules`): reads it as the function does and
 * writes it, each write conditional on the version read before, so two operators' puts never
 * overwrite each other unseen: "you can specify a condition expression to determine which
 * items should be modified. If the condition expression evaluates to true, the operation
 * succeeds; otherwise, the operation fails." (Amazon DynamoDB developer guide, "Condition
 * expressions", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.SpecifyingConditions.html)
 */
export class RulesWriter extends DynamoDbRulesStore {
  constructor(private readonly target: { client: DynamoDBClient; tableName: string }) {
    super(target);
  }

  /**
   * Writes `document` as version `expectedVersion + 1`, `expectedVersion` being the item's
   * version as read (`readItem().itemVersion`, a deleted document's tombstone included; null:
   * no item may exist yet), so a version is never reused. Throws RulesVersionConflict when the
   * stored version differs. The caller validates the document first.
   */
  async put(
    document: string,
    expectedVersion: number | null,
    who: { readonly updatedBy: string; readonly updatedAt: string },
  ): Promise<StoredRules> {
    const stored: StoredRules = {
      document,
      version: (expectedVersion ?? 0) + 1,
      updatedAt: who.updatedAt,
      updatedBy: who.updatedBy,
      sha256: documentHash(document),
      writeId: randomUUID(),
    };
    try {
      await this.target.client.send(
        new PutItemCommand({
          TableName: this.target.tableName,
          Item: {
            ...RULES_ITEM_KEY,
            document: { S: stored.document },
            version: { N: String(stored.version) },
            updatedAt: { S: stored.updatedAt },
            updatedBy: { S: stored.updatedBy },
            sha256: { S: stored.sha256 },
            writeId: { S: stored.writeId },
          },
          ...versionCondition(expectedVersion),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new RulesVersionConflict(
          `the stored rules changed meanwhile (expected ${expectedVersion === null ? 'none' : `version ${expectedVersion}`})`,
        );
      }
      throw error;
    }
    return stored;
  }

  /**
   * Deletes the document (the deployed rules apply again) if the item is still
   * `expectedVersion`: a tombstone, version `expectedVersion + 1` without `document`, keeps
   * the counter, so the next put does not reuse a version a warm container may still hold.
   */
  async delete(
    expectedVersion: number,
    who: { readonly updatedBy: string; readonly updatedAt: string } = {
      updatedBy: 'unknown',
      updatedAt: new Date().toISOString(),
    },
  ): Promise<number> {
    const version = expectedVersion + 1;
    try {
      await this.target.client.send(
        new PutItemCommand({
          TableName: this.target.tableName,
          Item: {
            ...RULES_ITEM_KEY,
            version: { N: String(version) },
            deleted: { BOOL: true },
            updatedAt: { S: who.updatedAt },
            updatedBy: { S: who.updatedBy },
            writeId: { S: randomUUID() },
          },
          ...versionCondition(expectedVersion),
        }),
      );
      return version;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new RulesVersionConflict(
          `the stored rules changed meanwhile (expected version ${expectedVersion})`,
        );
      }
      throw error;
    }
  }
}

function versionCondition(expectedVersion: number | null) {
  return expectedVersion === null
    ? { ConditionExpression: `attribute_not_exists(${TABLE_SCHEMA.partitionKey})` }
    : {
        ConditionExpression: '#version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } },
      };
}
