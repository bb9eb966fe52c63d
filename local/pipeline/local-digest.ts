import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { DetectorConfig } from '../../functions/config.ts';
import type { Digest } from '../../functions/core/alerting/digest.ts';
import { createDigestHandler } from '../../functions/detector/create-digest-handler.ts';
import { DIGEST_SERVICE_NAME } from '../../functions/telemetry-names.ts';
import { LOCAL_MAX_BATCH_MS } from './local-detector.ts';
import { localTelemetry } from './local-telemetry.ts';

/**
 * The very digest function the schedule invokes in AWS (createDigestHandler), with local
 * clients: the local poller's batches take milliseconds, so a period's digest waits a second
 * past its end, not the deployed function's timeout and a minute.
 */
export function createLocalDigest(options: {
  readonly config: DetectorConfig;
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly onDigest: (digest: Digest) => void;
  readonly lambdaLogs?: boolean;
}): () => Promise<unknown> {
  const { logger, metrics } = localTelemetry(DIGEST_SERVICE_NAME, options.lambdaLogs);
  const handler = createDigestHandler({
    config: options.config,
    dynamodb: options.dynamodb,
    sns: options.sns,
    logger,
    metrics,
    maxBatchMs: LOCAL_MAX_BATCH_MS,
    marginMs: 0,
    onDigest: options.onDigest,
  });
  return () => handler();
}
