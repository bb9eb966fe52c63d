import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
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
   * Writes `document` as version `expectedVersion + 1` (1 when `expectedVersion` is null: no
   * document may exist yet). Throws RulesVersionConflict when the stored version differs. The
   * caller validates the document first.
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

  /** Deletes the document (the deployed rules apply again) if it is still `expectedVersion`. */
  async delete(expectedVersion: number): Promise<void> {
    try {
      await this.target.client.send(
        new DeleteItemCommand({
          TableName: this.target.tableName,
          Key: RULES_ITEM_KEY,
          ...versionCondition(expectedVersion),
        }),
      );
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
