import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { Dispatcher, type PartitionOffset } from '../../local/poller/dispatcher.ts';
import { buildLambdaEvent, type PolledRecord } from '../../local/poller/lambda-event.ts';
import { createLambdaInvoker, LambdaInvokeError } from '../../local/poller/lambda-invoker.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

type Fn = (event: unknown) => Promise<unknown>;

interface InvokeRequest {
  readonly method: string;
  readonly path: string;
  readonly invocationType: string | undefined;
  readonly body: string;
}

/**
 * A loopback HTTP server that answers Lambda's Invoke REST call as the service does
 * (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html):
 * POST /2015-03-31/functions/{FunctionName}/invocations, the payload as the body; the
 * function's result as the 200 response; a function error as a 200 with
 * X-Amz-Function-Error ("The status code in the API response doesn't reflect function
 * errors"); an unknown function as a 404 ResourceNotFoundException.
 */
async function startLambdaApi(functions: Record<string, Fn>) {
  const requests: InvokeRequest[] = [];
  const read = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const server: Server = createServer(async (req, res) => {
    const body = await read(req);
    const path = req.url ?? '';
    requests.push({
      method: req.method ?? '',
      path,
      invocationType: req.headers['x-amz-invocation-type'] as string | undefined,
      body,
    });
    const name = decodeURIComponent(
      /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(path)?.[1] ?? '',
    );
    const fn = functions[name];
    if (req.method !== 'POST' || fn === undefined) {
      res.writeHead(404, {
        'content-type': 'application/json',
        'x-amzn-errortype': 'ResourceNotFoundException',
      });
      res.end(
        JSON.stringify({
          Type: 'User',
          message: `Function not found: arn:aws:lambda:us-east-1:000000000000:function:${name}`,
        }),
      );
      return;
    }
    try {
      const result = await fn(JSON.parse(body));
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-amz-executed-version': '$LATEST',
      });
      res.end(JSON.stringify(result ?? null));
    } catch (error) {
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-amz-function-error': 'Unhandled',
        'x-amz-executed-version': '$LATEST',
      });
      res.end(
        JSON.stringify({
          errorType: (error as Error).name,
          errorMessage: (error as Error).message,
          trace: [],
        }),
      );
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const T0 = Date.parse('2026-11-21T10:00:00Z');
const SEED = [52.1, 48.3, 55.0, 61.2, 57.4, 150.0, 60.3, 180.0, 49.5, 45.0];
const records: PolledRecord[] = SEED.map((v, i) => ({
  topic: 'sensor-data',
  partition: 0,
  offset: 100 + i,
  timestampMs: T0 + i * 1500,
  timestampType: 'CREATE_TIME',
  key: new TextEncoder().encode('sensor_1'),
  value: new TextEncoder().encode(`sensor_1,${v.toFixed(1)}`),
  headers: [],
}));
const SOURCE = { kind: 'self-managed', bootstrapServers: 'localhost:9092' } as const;

describe('the local poller invoking the deployed function through the Lambda API', () => {
  let aws: LocalAws;
  let api: Awaited<ReturnType<typeof startLambdaApi>>;
  let client: LambdaClient;
  let flakyCalls = 0;

  beforeAll(async () => {
    aws = await startLocalAws();
    const config = await aws.freshConfig({ alertCooldownMs: 0 });
    // The "deployed function" is the real detector handler, as the Lambda entry builds it.
    const detector = createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => T0 + 60_000,
      emailDigest: true,
    });
    api = await startLambdaApi({
      'SensorAnomalyDetectorLocal-Detector': (event) => detector(event as never),
      broken: async () => {
        throw new TypeError('Cannot read properties of undefined');
      },
      flaky: async (event) => {
        flakyCalls += 1;
        if (flakyCalls <= 2) throw new Error(`SNS publish failed (attempt ${flakyCalls})`);
        return { records: Object.values((event as { records: object }).records).flat().length };
      },
    });
    client = new LambdaClient({
      endpoint: api.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client.destroy();
    await api.close();
    await aws.close();
  });

  it('sends the Kafka event as a RequestResponse Invoke and returns the batch report', async () => {
    // Prepare
    const invoke = createLambdaInvoker({
      client,
      functionName: 'SensorAnomalyDetectorLocal-Detector',
    });
    const event = buildLambdaEvent(records, SOURCE);
    const sentBefore = aws.sns.messages.length;
    // Act
    const report = await invoke(event);
    // Assess
    expect(report).toMatchObject({ records: 10, readings: 10, anomalies: 2, notificationsSent: 2 });
    const request = api.requests.at(-1);
    expect(request).toMatchObject({
      method: 'POST',
      path: '/2015-03-31/functions/SensorAnomalyDetectorLocal-Detector/invocations',
      invocationType: 'RequestResponse',
    });
    expect(JSON.parse(request?.body ?? '{}')).toEqual(event);
    const kinds = aws.sns.messages
      .slice(sentBefore)
      .map((m) => m.messageAttributes.kind?.stringValue);
    expect(kinds).toEqual(['alert', 'alert', 'digest']);
  });

  it("throws the function's error, so the batch is retried rather than committed", async () => {
    const invoke = createLambdaInvoker({ client, functionName: 'broken' });
    await expect(invoke(buildLambdaEvent(records, SOURCE))).rejects.toThrow(
      new LambdaInvokeError(
        'broken failed the batch (Unhandled): TypeError: Cannot read properties of undefined',
      ),
    );
  });

  it('names the function Lambda does not know', async () => {
    const invoke = createLambdaInvoker({ client, functionName: 'missing' });
    const error = await invoke(buildLambdaEvent(records, SOURCE)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LambdaInvokeError);
    expect((error as Error).message).toMatch(/^invoking missing failed: Function not found/);
  });

  it('drives the dispatcher like the mapping: same event retried until it succeeds, then committed', async () => {
    // Prepare
    const committed: PartitionOffset[][] = [];
    const before = api.requests.length;
    const dispatcher = new Dispatcher({
      source: SOURCE,
      invoke: createLambdaInvoker({ client, functionName: 'flaky' }),
      commit: async (offsets) => {
        committed.push([...offsets]);
      },
      batching: { batchSize: 100, batchingWindowMs: 0 },
      retry: { initialBackoffMs: 5, maxBackoffMs: 20 },
    });
    // Act
    await dispatcher.offer(records).done;
    await dispatcher.stop();
    // Assess
    const sent = api.requests.slice(before).map((r) => r.body);
    expect(sent).toHaveLength(3);
    expect(new Set(sent).size).toBe(1);
    expect(committed).toEqual([[{ topic: 'sensor-data', partition: 0, offset: 110 }]]);
  });
});
