import {
  BatchEntryIdsNotDistinctException,
  CreateTopicCommand,
  InternalErrorException,
  InvalidParameterException,
  PublishBatchCommand,
  PublishCommand,
  type SNSClient,
  SubscribeCommand,
  TooManyEntriesInBatchRequestException,
} from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localSnsClient } from '../../local/embedded/clients.ts';
import { type SnsEndpoint, startSnsEndpoint } from '../../local/embedded/sns-endpoint.ts';

const TOPIC = 'arn:aws:sns:us-east-1:000000000000:anomalies';

describe('SNS capture endpoint, driven by the real SNSClient', () => {
  let sns: SnsEndpoint;
  let client: SNSClient;

  beforeAll(async () => {
    sns = await startSnsEndpoint();
    client = localSnsClient(sns.endpoint, { maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await sns.close();
  });
  beforeEach(() => {
    sns.messages.length = 0;
    sns.requests.length = 0;
  });

  it('accepts a JSON-structured Publish with subject and attributes', async () => {
    // Prepare
    const message = JSON.stringify({ default: 'body', sms: 'short' });
    // Act
    const out = await client.send(
      new PublishCommand({
        TopicArn: TOPIC,
        Message: message,
        Subject: 'Sensor anomaly',
        MessageStructure: 'json',
        MessageAttributes: {
          sensorId: { DataType: 'String', StringValue: 'sensor_1' },
          severity: { DataType: 'String', StringValue: 'critical' },
        },
      }),
    );
    // Assess
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toBeTruthy();
    expect(sns.messages).toEqual([
      {
        messageId: out.MessageId,
        topicArn: TOPIC,
        message,
        subject: 'Sensor anomaly',
        messageStructure: 'json',
        messageAttributes: {
          sensorId: { dataType: 'String', stringValue: 'sensor_1' },
          severity: { dataType: 'String', stringValue: 'critical' },
        },
      },
    ]);
    expect(sns.requests).toEqual([{ action: 'Publish', status: 200 }]);
  });

  it('notifies listeners of each accepted message until unsubscribed', async () => {
    // Prepare
    const seen: string[] = [];
    const off = sns.onMessage((m) => seen.push(m.message));
    // Act
    await client.send(new PublishCommand({ TopicArn: TOPIC, Message: 'one' }));
    off();
    await client.send(new PublishCommand({ TopicArn: TOPIC, Message: 'two' }));
    // Assess
    expect(seen).toEqual(['one']);
    expect(sns.messages.map((m) => m.message)).toEqual(['one', 'two']);
  });

  it.each([
    [
      'a JSON structure without "default"',
      { TopicArn: TOPIC, Message: '{"sms":"x"}', MessageStructure: 'json' },
    ],
    [
      'a JSON structure that is not JSON',
      { TopicArn: TOPIC, Message: 'not json', MessageStructure: 'json' },
    ],
    ['a missing TopicArn', { Message: 'x' }],
    ['an empty message', { TopicArn: TOPIC, Message: '' }],
    ['a subject with a line break', { TopicArn: TOPIC, Message: 'x', Subject: 'a\nb' }],
  ])('rejects %s with InvalidParameterException', async (_name, input) => {
    // Act
    const call = client.send(new PublishCommand(input));
    // Assess
    await expect(call).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(call).rejects.toMatchObject({
      $metadata: { httpStatusCode: 400 },
      $fault: 'client',
    });
    expect(sns.messages).toEqual([]);
  });

  it('accepts a PublishBatch and answers each entry id with a message id', async () => {
    // Prepare
    const entries = ['a0', 'a1', 'a2'].map((Id, i) => ({
      Id,
      Message: JSON.stringify({ default: `body ${i}` }),
      MessageStructure: 'json',
      Subject: `subject ${i}`,
      MessageAttributes: { sensorId: { DataType: 'String', StringValue: `sensor_${i}` } },
    }));
    // Act
    const out = await client.send(
      new PublishBatchCommand({ TopicArn: TOPIC, PublishBatchRequestEntries: entries }),
    );
    // Assess
    expect(out.Failed ?? []).toEqual([]);
    expect(out.Successful?.map((s) => s.Id)).toEqual(['a0', 'a1', 'a2']);
    expect(
      sns.messages.map((m) => [
        m.batchEntryId,
        m.messageId,
        m.subject,
        m.messageAttributes.sensorId,
      ]),
    ).toEqual(
      entries.map((e, i) => [
        e.Id,
        out.Successful?.[i]?.MessageId,
        `subject ${i}`,
        { dataType: 'String', stringValue: `sensor_${i}` },
      ]),
    );
  });

  it('reports an invalid entry under Failed and still accepts the others', async () => {
    // Act
    const out = await client.send(
      new PublishBatchCommand({
        TopicArn: TOPIC,
        PublishBatchRequestEntries: [
          { Id: 'good', Message: '{"default":"x"}', MessageStructure: 'json' },
          { Id: 'bad', Message: '{"email":"x"}', MessageStructure: 'json' },
        ],
      }),
    );
    // Assess
    expect(out.Successful?.map((s) => s.Id)).toEqual(['good']);
    expect(out.Failed).toEqual([
      expect.objectContaining({ Id: 'bad', Code: 'InvalidParameter', SenderFault: true }),
    ]);
    expect(sns.messages.map((m) => m.batchEntryId)).toEqual(['good']);
  });

  it('rejects more than 10 entries and duplicate ids, as SNS does', async () => {
    // Prepare
    const eleven = Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, Message: 'x' }));
    // Act
    const tooMany = client.send(
      new PublishBatchCommand({ TopicArn: TOPIC, PublishBatchRequestEntries: eleven }),
    );
    const duplicate = client.send(
      new PublishBatchCommand({
        TopicArn: TOPIC,
        PublishBatchRequestEntries: [
          { Id: 'same', Message: 'x' },
          { Id: 'same', Message: 'y' },
        ],
      }),
    );
    // Assess
    await expect(tooMany).rejects.toBeInstanceOf(TooManyEntriesInBatchRequestException);
    await expect(duplicate).rejects.toBeInstanceOf(BatchEntryIdsNotDistinctException);
    expect(sns.messages).toEqual([]);
  });

  it('fails the next requests on demand: throttling (retried by the SDK) and internal errors', async () => {
    // Prepare
    const retrying = localSnsClient(sns.endpoint, { maxAttempts: 3 });
    sns.failNext(2, 'throttle');
    // Act
    const afterRetries = await retrying.send(
      new PublishCommand({ TopicArn: TOPIC, Message: 'eventually' }),
    );
    sns.failNext(1, 'internal');
    const internal = client.send(new PublishCommand({ TopicArn: TOPIC, Message: 'lost' }));
    // Assess
    expect(afterRetries.$metadata.attempts).toBe(3);
    await expect(internal).rejects.toBeInstanceOf(InternalErrorException);
    await expect(internal).rejects.toMatchObject({
      $metadata: { httpStatusCode: 500 },
      $fault: 'server',
    });
    expect(sns.requests.map((r) => [r.status, r.errorCode])).toEqual([
      [400, 'Throttling'],
      [400, 'Throttling'],
      [200, undefined],
      [500, 'InternalError'],
    ]);
    expect(sns.messages.map((m) => m.message)).toEqual(['eventually']);
    retrying.destroy();
  });

  it('surfaces a throttle to a client without retries as a Throttling error', async () => {
    // Prepare
    sns.failNext(1);
    // Act
    const call = client.send(new PublishCommand({ TopicArn: TOPIC, Message: 'x' }));
    // Assess
    await expect(call).rejects.toMatchObject({
      name: 'Throttling',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('creates topics and records subscriptions', async () => {
    // Act
    const topic = await client.send(new CreateTopicCommand({ Name: 'sensor-alerts' }));
    const sub = await client.send(
      new SubscribeCommand({
        TopicArn: topic.TopicArn,
        Protocol: 'sqs',
        Endpoint: 'arn:aws:sqs:us-east-1:000000000000:q',
      }),
    );
    const email = await client.send(
      new SubscribeCommand({
        TopicArn: topic.TopicArn,
        Protocol: 'email',
        Endpoint: 'ops@example.com',
      }),
    );
    // Assess
    expect(topic.TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:sensor-alerts');
    expect(sub.SubscriptionArn).toMatch(
      /^arn:aws:sns:us-east-1:000000000000:sensor-alerts:[0-9a-f-]{36}$/,
    );
    expect(email.SubscriptionArn).toBe('pending confirmation');
    expect(sns.subscriptions.map((s) => [s.protocol, s.endpoint])).toEqual([
      ['sqs', 'arn:aws:sqs:us-east-1:000000000000:q'],
      ['email', 'ops@example.com'],
    ]);
  });
});
