import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbFeedbackStore } from '../../functions/adapters/dynamodb-feedback-store.ts';
import { compileFeedback } from '../../functions/core/feedback.ts';
import { createFeedbackApi, type FeedbackApiEvent } from '../../functions/feedback/feedback-api.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

// A function URL request as Lambda delivers it with AuthType AWS_IAM (payload format 2.0).
const EVENT = JSON.parse(
  readFileSync('test/fixtures/events/function-url-iam-event.json', 'utf8'),
) as FeedbackApiEvent;
const T0 = Date.parse('2026-12-01T08:00:00Z');
const CALLER = 'arn:aws:sts::123456789012:assumed-role/PlantOperators/alice';

const request = (
  method: string,
  path: string,
  body?: unknown,
  extra: Partial<FeedbackApiEvent> = {},
): FeedbackApiEvent => ({
  ...EVENT,
  rawPath: path,
  requestContext: { ...EVENT.requestContext, http: { ...EVENT.requestContext.http, method, path } },
  ...(body === undefined
    ? { body: undefined }
    : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  ...extra,
});

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(async () => {
  await aws.close();
});

async function api() {
  const config = await aws.freshConfig();
  const handle = createFeedbackApi({
    dynamodb: aws.dynamodbClient,
    tableName: config.tableName,
    clock: () => T0,
  });
  const store = new DynamoDbFeedbackStore({
    client: aws.dynamodbClient,
    tableName: config.tableName,
  });
  return { handle, store };
}

describe('the feedback API on dynalite, with the function URL event', () => {
  it('records the verdict as the signed caller, where the detector reads it', async () => {
    const { handle, store } = await api();
    const res = await handle(EVENT);
    expect(res.statusCode).toBe(201);
    expect(JSON.parse(res.body as string).recorded).toMatchObject({
      alertId: 'sensor-data-3-1042',
      verdict: 'not-anomaly',
      sensorId: 'line_1_temp',
      score: 0.62,
      by: CALLER,
      note: 'valve test',
      recordedAtMs: T0,
    });
    const { records } = await store.list({ forBatch: true });
    expect(compileFeedback(records, T0)('line_1_temp')?.verdicts).toHaveLength(1);
  });

  it('lists by sensor and deletes by alert id (404 when there is none)', async () => {
    const { handle } = await api();
    await handle(EVENT);
    await handle(
      request('POST', '/feedback', {
        alertId: 'sensor-data-0-7',
        verdict: 'missed',
        sensorId: 'pump_2',
      }),
    );
    const all = await handle(request('GET', '/feedback'));
    expect(JSON.parse(all.body as string).verdicts).toHaveLength(2);
    const one = await handle(
      request('GET', '/feedback', undefined, { queryStringParameters: { sensorId: 'pump_2' } }),
    );
    expect(JSON.parse(one.body as string).verdicts).toMatchObject([{ alertId: 'sensor-data-0-7' }]);
    const gone = await handle(request('DELETE', '/feedback/sensor-data-0-7'));
    expect(gone.statusCode).toBe(200);
    expect((await handle(request('DELETE', '/feedback/sensor-data-0-7'))).statusCode).toBe(404);
  });

  it('takes a base64 body (as the URL delivers binary content types)', async () => {
    const { handle } = await api();
    const res = await handle({
      ...EVENT,
      body: Buffer.from(EVENT.body as string).toString('base64'),
      isBase64Encoded: true,
    });
    expect(res.statusCode).toBe(201);
  });

  it.each([
    ['not JSON', 'nope', 400, 'body: a JSON object with alertId and verdict'],
    ['an array', '[1]', 400, 'body: a JSON object with alertId and verdict'],
    [
      'a bad verdict',
      { alertId: 'a', verdict: 'fine', sensorId: 's' },
      400,
      'verdict: not-anomaly or missed',
    ],
    ['no sensor', { alertId: 'a', verdict: 'missed' }, 400, 'sensorId: the sensor of the alert'],
    ['too large', 'x'.repeat(70_000), 400, 'body: at most 65536 bytes'],
  ])('answers %s with %i and one line', async (_what, body, status, message) => {
    const { handle, store } = await api();
    const res = await handle(request('POST', '/feedback', body));
    expect(res.statusCode).toBe(status);
    expect(JSON.parse(res.body as string).error).toContain(message);
    expect((await store.list()).records).toEqual([]);
  });

  it('refuses a request without a signed caller, and unknown routes', async () => {
    const { handle } = await api();
    const unsigned = await handle({
      ...EVENT,
      requestContext: {
        ...EVENT.requestContext,
        authorizer: {} as FeedbackApiEvent['requestContext']['authorizer'],
      },
    });
    expect(unsigned.statusCode).toBe(403);
    const wrong = await handle(request('PUT', '/feedback', {}));
    expect(wrong.statusCode).toBe(404);
    expect(JSON.parse(wrong.body as string).error).toContain('no such route: PUT /feedback');
  });
});
