import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import { FeedbackInputError, type FeedbackRecord, feedbackRecord } from '../core/feedback.ts';
import { FeedbackWriter } from './feedback-writer.ts';

/** A request body larger than this is refused before it is parsed. */
const MAX_BODY_BYTES = 64 * 1024;

export interface FeedbackApiDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  /** @default Date.now */
  readonly clock?: () => number;
}

export type FeedbackApiEvent = APIGatewayProxyEventV2WithIAMAuthorizer;
export type FeedbackApiResult = Exclude<APIGatewayProxyResultV2, string>;

/**
 * The feedback API behind a Lambda function URL with AuthType AWS_IAM (docs/feedback.md): the
 * same verdicts as `npm run feedback`, for tools that are not a shell.
 *
 *   POST   /feedback            {"alertId", "verdict", "sensorId"?, "score"?, "alert"?, "note"?, "expiresInDays"?}
 *   GET    /feedback[?sensorId=ID]
 *   DELETE /feedback/ALERT_ID
 *
 * Who gave a verdict is the signed caller's ARN: with AWS_IAM "Lambda uses AWS Identity and
 * Access Management (IAM) to authenticate and authorize requests based on the IAM principal's
 * identity policy and the function's resource-based policy" (Lambda developer guide, "Control
 * access to Lambda function URLs", https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html),
 * and the event carries that principal in requestContext.authorizer.iam (payload format 2.0,
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html).
 */
export function createFeedbackApi(deps: FeedbackApiDeps) {
  const writer = new FeedbackWriter({ client: deps.dynamodb, tableName: deps.tableName });
  const clock = deps.clock ?? Date.now;

  return async function handle(event: FeedbackApiEvent): Promise<FeedbackApiResult> {
    const method = event.requestContext?.http?.method ?? '';
    const path = (event.rawPath ?? '').replace(/\/+$/, '');
    const caller = event.requestContext?.authorizer?.iam?.userArn;
    // The function URL refuses unsigned requests; one without a caller came another way.
    if (typeof caller !== 'string' || caller === '')
      return reply(403, { error: 'a signed request is needed (AWS_IAM)' });
    try {
      if (path === '/feedback' && method === 'POST') {
        const input = parseBody(event);
        const record = feedbackRecord(input, caller, clock());
        await writer.put(record);
        return reply(201, { recorded: record });
      }
      if (path === '/feedback' && method === 'GET') {
        const sensorId = event.queryStringParameters?.sensorId;
        const { records, invalid, truncated } = await writer.list({ consistent: true });
        const verdicts = records.filter(
          (r: FeedbackRecord) => sensorId === undefined || r.sensorId === sensorId,
        );
        return reply(200, { verdicts, invalid, truncated });
      }
      if (path.startsWith('/feedback/') && method === 'DELETE') {
        const alertId = decodeURIComponent(path.slice('/feedback/'.length));
        const gone = await writer.delete(alertId);
        return gone === null
          ? reply(404, { error: `no verdict on ${alertId}` })
          : reply(200, { deleted: gone });
      }
      return reply(404, {
        error: `no such route: ${method} ${path || '/'} (POST /feedback, GET /feedback, DELETE /feedback/ALERT_ID)`,
      });
    } catch (error) {
      if (error instanceof FeedbackInputError) return reply(400, { error: error.message });
      throw error;
    }
  };
}

function parseBody(event: FeedbackApiEvent): Record<string, unknown> {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES)
    throw new FeedbackInputError(`body: at most ${MAX_BODY_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new FeedbackInputError('body: a JSON object with alertId and verdict');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new FeedbackInputError('body: a JSON object with alertId and verdict');
  return body as Record<string, unknown>;
}

function reply(statusCode: number, body: unknown): FeedbackApiResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}
