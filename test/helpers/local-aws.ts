import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { DetectorConfig } from '../../functions/config.ts';
import { DEFAULT_DETECTION } from '../../functions/config.ts';
import { localDynamoDbClient, localSnsClient } from '../../local/embedded/clients.ts';
import { type EmbeddedDynamoDb, ensureTable } from '../../local/embedded/dynamodb.ts';
import { type SnsEndpoint, startSnsEndpoint } from '../../local/embedded/sns-endpoint.ts';
import { uniqueName, workerDynamoDb } from './worker-services.ts';

export const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:sensor-alerts';

/**
 * dynalite and the loopback SNS endpoint, with real SDK clients pointed at them. dynalite is
 * the worker's (test/helpers/worker-services.ts), each config on a fresh table of its own;
 * the SNS endpoint is the caller's alone, so that `sns.messages` holds only its messages.
 */
export interface LocalAws {
  readonly dynamo: EmbeddedDynamoDb;
  readonly sns: SnsEndpoint;
  readonly dynamodbClient: DynamoDBClient;
  readonly snsClient: SNSClient;
  /** A fresh, empty table and a config that uses it. */
  freshConfig(overrides?: Partial<DetectorConfig>): Promise<DetectorConfig>;
  close(): Promise<void>;
}

export async function startLocalAws(): Promise<LocalAws> {
  const dynamo = await workerDynamoDb();
  const sns = await startSnsEndpoint();
  // One attempt: the tests decide when to retry, as the event source mapping would.
  const dynamodbClient = localDynamoDbClient(dynamo.endpoint, { maxAttempts: 1 });
  const snsClient = localSnsClient(sns.endpoint, { maxAttempts: 1 });
  return {
    dynamo,
    sns,
    dynamodbClient,
    snsClient,
    async freshConfig(overrides = {}) {
      const tableName = uniqueName('windows');
      await ensureTable(dynamodbClient, tableName);
      return { ...DEFAULT_DETECTION, tableName, topicArn: TOPIC_ARN, ...overrides };
    },
    async close() {
      dynamodbClient.destroy();
      snsClient.destroy();
      await sns.close();
      await dynamo.close();
    },
  };
}

/** Counts the SDK commands a client sends, by name. */
export function countCommands(client: DynamoDBClient | SNSClient): Map<string, number> {
  const counts = new Map<string, number>();
  (client as DynamoDBClient).middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName);
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: `count-${Math.random()}` },
  );
  return counts;
}

export class CrashAfterCall extends Error {
  override readonly name = 'CrashAfterCall';
}

/**
 * Shared across clients: throws right after the N-th request has been answered, as if the
 * function died (or lost the response) between two AWS calls.
 */
export class CallCrasher {
  calls = 0;
  failAt: number | null = null;

  attach(client: DynamoDBClient | SNSClient): void {
    (client as DynamoDBClient).middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        this.calls += 1;
        if (this.calls === this.failAt) throw new CrashAfterCall(`crash after call ${this.calls}`);
        return result;
      },
      { step: 'initialize', name: `crash-${Math.random()}` },
    );
  }
}
