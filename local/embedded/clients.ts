import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';

export interface LocalClientOptions {
  /** SDK attempts per call, the first included. @default 3 (the SDK's default) */
  readonly maxAttempts?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
}

/**
 * Local services accept any signature, so fixed dummy credentials keep the SDK from
 * searching the machine's AWS profile chain (and from using a real account by accident).
 */
const DUMMY_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

function common(endpoint: string, options: LocalClientOptions) {
  return {
    endpoint,
    region: options.region ?? 'us-east-1',
    credentials: DUMMY_CREDENTIALS,
    maxAttempts: options.maxAttempts ?? 3,
  };
}

export function localDynamoDbClient(
  endpoint: string,
  options: LocalClientOptions = {},
): DynamoDBClient {
  return new DynamoDBClient(common(endpoint, options));
}

export function localSnsClient(endpoint: string, options: LocalClientOptions = {}): SNSClient {
  return new SNSClient(common(endpoint, options));
}

export function localEventBridgeClient(
  endpoint: string,
  options: LocalClientOptions = {},
): EventBridgeClient {
  return new EventBridgeClient(common(endpoint, options));
}
