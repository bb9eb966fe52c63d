import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANOMALY_EVENT,
  EventBridgeAnomalySink,
} from '../../functions/adapters/eventbridge-anomaly-sink.ts';
import { createHandler } from '../../functions/detector/create-handler.ts';
import { localEventBridgeClient } from '../../local/embedded/clients.ts';
import {
  type EventBridgeEndpoint,
  startEventBridgeEndpoint,
} from '../../local/embedded/eventbridge-endpoint.ts';
import { mskEvent, toRawRecord } from '../helpers/kafka-events.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

const T0 = Date.parse('2026-11-21T10:00:00Z');
const BUS = 'sensor-events';

/** `sensors` sensors at a steady 50, then one spike each: one anomaly per sensor. */
function records(sensors: number) {
  const out = [];
  let offset = 0;
  for (let i = 0; i < 8; i += 1)
    for (let s = 1; s <= sensors; s += 1)
      out.push({ s, v: 49 + (i % 3), t: T0 + i * 1000, o: offset++ });
  for (let s = 1; s <= sensors; s += 1) out.push({ s, v: 150 + s, t: T0 + 8000, o: offset++ });
  return out.map((r) =>
    toRawRecord({
      partition: 0,
      offset: r.o,
      timestampMs: r.t,
      key: `sensor_${r.s}`,
      value: `sensor_${r.s},${r.v}.0`,
    }),
  );
}

describe('EventBridge sink: the real EventBridgeClient against a loopback PutEvents endpoint', () => {
  let aws: LocalAws;
  let bus: EventBridgeEndpoint;
  beforeAll(async () => {
    [aws, bus] = await Promise.all([startLocalAws(), startEventBridgeEndpoint()]);
  });
  afterAll(async () => {
    await Promise.all([aws?.close(), bus?.close()]);
  });

  async function handlerWith(sink: EventBridgeAnomalySink) {
    const config = await aws.freshConfig({ alertCooldownMs: 0 });
    return createHandler({
      config,
      dynamodb: aws.dynamodbClient,
      sns: aws.snsClient,
      clock: () => T0 + 60_000,
      sinks: [sink],
    });
  }

  it('puts one "Sensor anomaly" event per anomaly, 10 entries per call, detail = the log fields', async () => {
    // Prepare
    const sink = new EventBridgeAnomalySink({
      client: localEventBridgeClient(bus.endpoint),
      eventBusName: BUS,
    });
    const handler = await handlerWith(sink);
    const before = bus.events.length;
    const requestsBefore = bus.requests.length;
    // Act
    const report = await handler(mskEvent(records(12)));
    // Assess
    const events = bus.events.slice(before);
    expect(report.anomalies).toBe(12);
    expect(events).toHaveLength(12);
    expect(bus.requests.slice(requestsBefore).map((r) => r.entries)).toEqual([10, 2]);
    const first = events[0];
    expect(first).toMatchObject({
      source: ANOMALY_EVENT.source,
      detailType: 'Sensor anomaly',
      eventBusName: BUS,
      time: (T0 + 8000) / 1000,
    });
    const detail = JSON.parse(first?.detail ?? '{}');
    expect(detail).toMatchObject({ sensorId: 'sensor_1', value: 151, notified: true });
    expect(new Set(events.map((e) => JSON.parse(e.detail).alertId)).size).toBe(12);
  });

  it('puts again only the entries that failed inside a 200 answer (FailedEntryCount)', async () => {
    // Prepare
    const sink = new EventBridgeAnomalySink({
      client: localEventBridgeClient(bus.endpoint),
      eventBusName: BUS,
      backoffMs: 1,
    });
    const handler = await handlerWith(sink);
    const before = bus.events.length;
    const requestsBefore = bus.requests.length;
    bus.failNextEntries(3, 'ThrottlingException');
    // Act
    await handler(mskEvent(records(5)));
    // Assess: 5 sent, 3 failed and were put again, each anomaly exactly once on the bus.
    const requests = bus.requests.slice(requestsBefore);
    expect(requests.map((r) => [r.entries, r.failed])).toEqual([
      [5, 3],
      [3, 0],
    ]);
    const ids = bus.events.slice(before).map((e) => JSON.parse(e.detail).alertId);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
  });

  it('fails the batch when entries keep failing; the retry delivers them with the same alert ids', async () => {
    // Prepare
    const sink = new EventBridgeAnomalySink({
      client: localEventBridgeClient(bus.endpoint, { maxAttempts: 1 }),
      eventBusName: BUS,
      attempts: 2,
      backoffMs: 1,
    });
    const handler = await handlerWith(sink);
    const event = mskEvent(records(4));
    const before = bus.events.length;
    bus.failNextEntries(4 + 1, 'InternalFailure'); // every entry of round 1, one of round 2
    // Act
    const failure = await handler(event).then(
      () => null,
      (e: unknown) => e as Error,
    );
    const afterFailure = bus.events.slice(before).map((e) => JSON.parse(e.detail).alertId);
    bus.throttleNext(1); // and a whole-request throttle on the first retry
    const second = await handler(event).then(
      () => null,
      (e: unknown) => e as Error,
    );
    const report = await handler(event);
    // Assess
    expect(failure?.message).toMatch(
      /EventBridge PutEvents to sensor-events: 1 of 4 entries still failed after 2 rounds \(InternalFailure\)/,
    );
    expect(second?.message).toMatch(/ThrottlingException|Rate exceeded/);
    expect(afterFailure).toHaveLength(3);
    const all = bus.events.slice(before).map((e) => JSON.parse(e.detail).alertId);
    // The journal still held all four: the retry puts all four; three are copies.
    expect(new Set(all).size).toBe(4);
    expect(all).toHaveLength(7);
    expect(report.redelivered).toBe(records(4).length); // judged once, in the first attempt
  });
});
