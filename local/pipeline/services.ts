import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { localDynamoDbClient, localSnsClient } from '../embedded/clients.ts';
import { ensureTable, startDynamoDb } from '../embedded/dynamodb.ts';
import { describeSocketError, unavailable, waitForService } from '../embedded/reachable.ts';
import { type SnsEndpoint, startSnsEndpoint } from '../embedded/sns-endpoint.ts';

export interface ServiceOptions {
  readonly tableName: string;
  readonly topicArn: string;
  /** A DynamoDB to use; embedded dynalite without. */
  readonly dynamodbEndpoint?: string;
  /** An SNS to use; the embedded capture endpoint without. */
  readonly snsEndpoint?: string;
}

/** The AWS side of the local pipeline, each embedded unless an endpoint is given. */
export interface Services {
  readonly dynamodb: ReturnType<typeof localDynamoDbClient>;
  readonly dynamodbEndpoint: string;
  /** The embedded dynalite, when no endpoint was given. */
  readonly ddb: { readonly endpoint: string } | null;
  readonly sns: ReturnType<typeof localSnsClient>;
  readonly snsEndpoint: string;
  /** The embedded capture endpoint, when no endpoint was given. */
  readonly capture: SnsEndpoint | null;
  /** The topic to publish to (an external SNS may name it differently). */
  readonly topicArn: string;
}

/**
 * Starts (or waits for) DynamoDB with the detector's table and SNS with its topic; a given
 * endpoint that does not answer in `waitMs` is a ServiceUnavailableError. Each shutdown goes
 * to `onClose`, in start order.
 */
export async function startServices(
  options: ServiceOptions,
  log: (line: string) => void,
  waitMs: number,
  onClose: (close: () => Promise<void>) => void,
): Promise<Services> {
  const ddb = options.dynamodbEndpoint === undefined ? await startDynamoDb() : null;
  if (ddb !== null) onClose(() => ddb.close());
  const dynamodbEndpoint = ddb?.endpoint ?? (options.dynamodbEndpoint as string);
  const dynamodb = localDynamoDbClient(dynamodbEndpoint);
  onClose(async () => dynamodb.destroy());
  if (ddb === null) {
    const spec = {
      service: 'DynamoDB',
      address: dynamodbEndpoint,
      hint: `start it (e.g. \`docker compose up -d localstack\`), or drop --dynamodb-endpoint and DYNAMODB_ENDPOINT to use the embedded dynalite`,
    };
    await waitForService(spec, [dynamodbEndpoint], waitMs);
    await ensureTable(dynamodb, options.tableName).catch((error: unknown) => {
      throw unavailable(spec, sdkProblem(error));
    });
  } else {
    await ensureTable(dynamodb, options.tableName);
  }

  const capture = options.snsEndpoint === undefined ? await startSnsEndpoint() : null;
  if (capture !== null) onClose(() => capture.close());
  const snsEndpoint = capture?.endpoint ?? (options.snsEndpoint as string);
  const sns = localSnsClient(snsEndpoint);
  onClose(async () => sns.destroy());
  let topicArn = options.topicArn;
  if (capture === null) {
    const spec = {
      service: 'SNS',
      address: snsEndpoint,
      hint: `start it (e.g. \`docker compose up -d localstack\`), or drop --sns-endpoint and SNS_ENDPOINT to use the embedded capture endpoint`,
    };
    await waitForService(spec, [snsEndpoint], waitMs);
    topicArn = await ensureSnsTopic(sns, topicArn, log).catch((error: unknown) => {
      throw unavailable(spec, sdkProblem(error));
    });
  }
  return { dynamodb, dynamodbEndpoint, ddb, sns, snsEndpoint, capture, topicArn };
}

/** SNS's CreateTopic is idempotent: it makes sure the topic exists (e.g. on LocalStack). */
async function ensureSnsTopic(
  sns: ReturnType<typeof localSnsClient>,
  topicArn: string,
  log: (line: string) => void,
): Promise<string> {
  const name = topicArn.split(':').at(-1) ?? topicArn;
  const created = await sns.send(new CreateTopicCommand({ Name: name }));
  if (created.TopicArn !== undefined && created.TopicArn !== topicArn) {
    log(`SNS topic is ${created.TopicArn} (asked for ${topicArn})`);
    return created.TopicArn;
  }
  return topicArn;
}

/** An SDK failure against a given endpoint, in a few words (no stack). */
function sdkProblem(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { $metadata?: { httpStatusCode?: number } };
  if (typeof e.code === 'string' && e.code.startsWith('E')) return describeSocketError(e);
  const status = e.$metadata?.httpStatusCode;
  const name = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
  return `${status === undefined ? '' : `HTTP ${status}, `}${name}${e.message ?? String(error)}`;
}
