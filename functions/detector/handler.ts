import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { readSecretString } from '../adapters/secret-reader.ts';
import { configFromEnv } from '../config.ts';
import { readingSettingsFromEnv } from '../schema-registry/registry-config.ts';
import { sinkSettingsFromEnv } from '../sinks-config.ts';
import { SERVICE_NAME } from '../telemetry-names.ts';
import { createHandler } from './create-handler.ts';
import { sinksFromSettings } from './sinks.ts';

export { createHandler } from './create-handler.ts';

// X-Ray through the Powertools Tracer, switched by POWERTOOLS_TRACE_ENABLED (the stack sets
// it with the `tracing` context key, together with the function's active tracing).
const tracing = process.env.POWERTOOLS_TRACE_ENABLED === 'true';
const tracer = tracing ? new Tracer({ serviceName: SERVICE_NAME }) : undefined;
const traced = <T>(client: T): T =>
  tracer === undefined ? client : tracer.captureAWSv3Client(client);

/**
 * Lambda entry for Kafka event source mappings (MSK and self-managed). Config is read and
 * validated once, at cold start: a bad variable fails the init with its name in the error.
 */
// Schema-registry values: the decoders are loaded only when a registry is configured.
const readings = readingSettingsFromEnv(process.env);
const decoder =
  readings.registry === undefined
    ? undefined
    : await import('../schema-registry/registry-decoder.ts').then(async (m) => {
        const { GlueClient } = await import('@aws-sdk/client-glue');
        return m.decoderFromSettings(readings, {
          readSecret: (arn) => readSecretString(arn, process.env.AWS_REGION ?? ''),
          glue: () => traced(new GlueClient({})),
        });
      });

export const handler = createHandler({
  config: configFromEnv(process.env),
  dynamodb: traced(new DynamoDBClient({})),
  sns: traced(new SNSClient({})),
  emailDigest: true,
  sinks: sinksFromSettings(sinkSettingsFromEnv(process.env), () =>
    traced(new EventBridgeClient({})),
  ),
  // The rules document in the table, read at most every 30 s (docs/rules.md).
  liveRules: {},
  // Operators' verdicts on alerts, read on the same cadence (docs/feedback.md).
  liveFeedback: {},
  ...(tracer === undefined ? {} : { tracer }),
  ...(decoder === undefined ? {} : { decoder }),
  ...(Object.keys(readings.fields).length === 0 ? {} : { readingFields: readings.fields }),
});
