import { DeleteItemCommand, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DynamoDbFeedbackStore,
  feedbackFromItem,
  feedbackItem,
  feedbackKey,
} from '../adapters/dynamodb-feedback-store.ts';
import type { FeedbackRecord } from '../core/feedback.ts';

/**
 * Records and removes verdicts (docs/feedback.md): what the operators' CLI and the feedback
 * API do. Kept apart from the batch's store so the detector's role needs no write to them.
 */
export class FeedbackWriter extends DynamoDbFeedbackStore {
  constructor(private readonly target: { client: DynamoDBClient; tableName: string }) {
    super(target);
  }

  /** Records a verdict; a second verdict on the same alert replaces the first. */
  async put(record: FeedbackRecord): Promise<void> {
    await this.target.client.send(
      new PutItemCommand({ TableName: this.target.tableName, Item: feedbackItem(record) }),
    );
  }

  /** Removes the verdict on `alertId`; returns it, or null when there was none. */
  async delete(alertId: string): Promise<FeedbackRecord | null> {
    const out = await this.target.client.send(
      new DeleteItemCommand({
        TableName: this.target.tableName,
        Key: feedbackKey(alertId),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return out.Attributes === undefined ? null : feedbackFromItem(out.Attributes);
  }
}
