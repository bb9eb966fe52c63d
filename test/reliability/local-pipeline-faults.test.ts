import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AlertPublishError } from '../../functions/adapters/sns-alert-publisher.ts';
import type { RawRecord } from '../../functions/core/types.ts';
import type { Rejection } from '../../functions/ports.ts';
import { localDynamoDbClient, localSnsClient } from '../../local/embedded/clients.ts';
import { type EmbeddedDynamoDb, ensureTable } from '../../local/embedded/dynamodb.ts';
import type { MockKafka } from '../../local/embedded/kafka-mock-cluster.ts';
import { type SnsEndpoint, startSnsEndpoint } from '../../local/embedded/sns-endpoint.ts';
import { createLocalDetector, localDetectorConfig } from '../../local/pipeline/local-detector.ts';
import { type KafkaPoller, startKafkaPoller } from '../../local/poller/kafka-poller.ts';
import { LOCAL_MSK_CLUSTER_ARN } from '../../local/poller/lambda-event.ts';
import { mulberry32 } from '../../local/simulator/readings.ts';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { describeWithKafka } from '../helpers/kafka-available.ts';
import { runReferenceModel } from '../helpers/reference-model.ts';
import { sentByKind, tableBuckets, totalCount, withoutSumSq } from '../helpers/table-state.ts';
import { uniqueName, workerDynamoDb, workerKafka } from '../helpers/worker-services.ts';

const PARTITIONS = 4;
const SENSORS = 8;
const COOLDOWN_MS = 2000;
const CHILD = fileURLToPath(new URL('./support/poller-child.ts', import.meta.url));

/** This file's names for topics, groups and tables on the worker's shared services. */
const ns = uniqueName('pipeline-faults');

describeWithKafka(
  'local pipeline under faults: Kafka (mock cluster) → poller → handler → dynalite / SNS',
  () => {
    let kafkaCluster: MockKafka;
    let dynamo: EmbeddedDynamoDb;
    let sns: SnsEndpoint;
    let dynamoProxy: FaultProxy;
    let snsProxy: FaultProxy;
    let admin: DynamoDBClient;
    let producer: Producer;
    const pollers: KafkaPoller[] = [];
    const children: ChildProcess[] = [];
    let run = 0;

    beforeAll(async () => {
      [kafkaCluster, dynamo, sns] = await Promise.all([
        workerKafka(),
        workerDynamoDb(),
        startSnsEndpoint(),
      ]);
      [dynamoProxy, snsProxy] = await Promise.all([
        startFaultProxy({ target: dynamo.endpoint, flavor: 'dynamodb' }),
        startFaultProxy({ target: sns.endpoint, flavor: 'sns' }),
      ]);
      admin = localDynamoDbClient(dynamo.endpoint);
      producer = new Kafka({
        brokers: [kafkaCluster.bootstrap],
        logLevel: logLevel.NOTHING,
      }).producer({
        allowAutoTopicCreation: true,
        idempotent: false,
      });
      await producer.connect();
    });

    afterAll(async () => {
      for (const child of children) child.kill('SIGKILL');
      await Promise.all(pollers.map((p) => p.stop().catch(() => {})));
      await producer?.disconnect();
      admin?.destroy();
      await Promise.all([dynamoProxy?.close(), snsProxy?.close()]);
      await Promise.all([kafkaCluster?.close(), dynamo?.close(), sns?.close()]);
    });

    /** A fresh topic, group and table on the shared services. */
    async function setup() {
      run += 1;
      const topic = `${ns}-${run}`;
      const groupId = `${ns}-group-${run}`;
      const config = localDetectorConfig({
        tableName: `${ns}-${run}`,
        alertCooldownMs: COOLDOWN_MS,
      });
      await ensureTable(admin, config.tableName);
      const produced: RawRecord[] = [];
      const rejected = new Set<string>();
      const failures: unknown[] = [];
      const tally = { redelivered: 0 };
      const snsBefore = sns.messages.length;
      // Event times step 40 ms from a minute ago: several cooldowns' worth of notifications.
      const random = mulberry32(run * 7919);
      let clockMs = Date.now() - 60_000;
      let next = 0;

      /** Sends `count` readings keyed by sensor (5% spikes, 3% invalid); remembers where they went. */
      const produce = async (count: number) => {
        const messages = Array.from({ length: count }, () => {
          const i = next;
          next += 1;
          clockMs += 40;
          const sensor = `sensor_${i % SENSORS}`;
          const r = random();
          const value =
            r < 0.03
              ? i % 2 === 0
                ? `${sensor},NaN`
                : '{"value":1}'
              : `${sensor},${r < 0.08 ? 150 + (i % 50) : (45 + random() * 10).toFixed(1)}`;
          return {
            key: sensor,
            value,
            partition: (i % SENSORS) % PARTITIONS,
            timestamp: String(clockMs),
          };
        });
        const metadata = await producer.send({ topic, messages });
        const base = new Map(metadata.map((m) => [m.partition, Number(m.baseOffset ?? m.offset)]));
        const seen = new Map<number, number>();
        for (const m of messages) {
          const k = seen.get(m.partition) ?? 0;
          seen.set(m.partition, k + 1);
          produced.push({
            topic,
            partition: m.partition,
            offset: (base.get(m.partition) ?? 0) + k,
            timestampMs: Number(m.timestamp),
            key: Buffer.from(m.key),
            value: Buffer.from(m.value),
          });
        }
      };

      const startPoller = async (
        dynamodbEndpoint: string,
        snsEndpoint: string,
        onFailure?: () => void,
      ) => {
        const handler = createLocalDetector({
          config,
          dynamodb: localDynamoDbClient(dynamodbEndpoint, { maxAttempts: 1 }),
          sns: localSnsClient(snsEndpoint, { maxAttempts: 1 }),
          observer: {
            rejected: (r: Rejection) => rejected.add(`${r.source.partition}:${r.source.offset}`),
            anomaly() {},
            published() {},
          },
        });
        const poller = await startKafkaPoller({
          brokers: [kafkaCluster.bootstrap],
          topics: [topic],
          groupId,
          source: {
            kind: 'msk',
            clusterArn: LOCAL_MSK_CLUSTER_ARN,
            bootstrapServers: kafkaCluster.bootstrap,
          },
          invoke: (event) => handler(event),
          batching: { batchSize: 40, batchingWindowMs: 50 },
          retry: { initialBackoffMs: 50, maxBackoffMs: 300 },
          sessionTimeoutMs: 3000,
          heartbeatIntervalMs: 300,
          maxWaitTimeMs: 100,
          hooks: {
            failed: ({ error }) => {
              failures.push(error);
              onFailure?.();
            },
            invoked: ({ result }) => {
              tally.redelivered += (result as { redelivered?: number }).redelivered ?? 0;
            },
          },
        });
        pollers.push(poller);
        await poller.ready;
        return poller;
      };

      /** Everything produced is counted exactly once and every expected notification was sent. */
      const reconcile = async (label: string) => {
        const reference = runReferenceModel(produced, {
          slideMs: config.slideMs,
          windowMs: config.windowMs,
          detector: { kind: 'threshold', threshold: 50 },
          alertCooldownMs: COOLDOWN_MS,
          episodeEndReadings: config.episodeEndReadings,
          // Event times are a minute old at most: the default freshness limit (300 s) never
          // makes them stale, and the reference's default is never stale.
        });
        const buckets = await tableBuckets(admin, config.tableName);
        const valid = produced.length - reference.rejected;
        const sent = sentByKind(sns.messages.slice(snsBefore));
        const figures = {
          produced: produced.length,
          applied: totalCount(buckets),
          rejected: rejected.size,
          expectedNotifications: reference.notifications.size,
          notificationsAtSns: sent.alerts.size,
          expectedResolved: reference.resolved.size,
          resolvedAtSns: sent.resolved.size,
          failedInvocations: failures.length,
          redeliveredRecords: tally.redelivered,
        };
        console.info(`[pipeline ${label}] ${JSON.stringify(figures)}`);
        expect(figures.applied, label).toBe(valid);
        expect(figures.rejected, label).toBe(reference.rejected);
        expect(figures.applied + figures.rejected, label).toBe(figures.produced);
        expect(buckets, label).toEqual(withoutSumSq(reference.buckets));
        // Each anomaly notification and each critical episode's end, once per identity,
        // whatever the retries; no email digest: no digest function runs here, and with
        // digests by time the detector never sends one per batch.
        expect(sent.alerts, label).toEqual(reference.notifications);
        expect(sent.resolved, label).toEqual(reference.resolved);
        expect(sent.digests, label).toBe(0);
        return figures;
      };

      return {
        topic,
        groupId,
        config,
        produce,
        startPoller,
        reconcile,
        failures,
        rejected,
        produced,
        tally,
      };
    }

    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    it('DynamoDB endpoint down for 3 s while readings flow: nothing lost, nothing counted twice', async () => {
      // Prepare
      const p = await setup();
      const poller = await p.startPoller(dynamoProxy.endpoint, sns.endpoint);
      // Act: produce in bursts; the endpoint refuses connections for 3 s in the middle
      await p.produce(150);
      await sleep(300);
      await dynamoProxy.down();
      for (let i = 0; i < 3; i += 1) {
        await p.produce(100);
        await sleep(1000);
      }
      await dynamoProxy.up();
      await p.produce(150);
      const drained = await poller.drain(30_000);
      // Assess
      expect(drained).toBe(true);
      expect(p.failures.length).toBeGreaterThan(0);
      await p.reconcile('dynamodb down 3 s');
    });

    it('SNS endpoint throttling and then failing with 5xx: every notification still sent, state applied once', async () => {
      // Prepare
      const p = await setup();
      const poller = await p.startPoller(dynamoProxy.endpoint, snsProxy.endpoint);
      // Act
      await p.produce(150);
      await sleep(200);
      snsProxy.setMode('throttle');
      await p.produce(150);
      await sleep(1200);
      snsProxy.setMode('internal');
      await p.produce(150);
      await sleep(1200);
      snsProxy.setMode(null);
      await p.produce(100);
      const drained = await poller.drain(30_000);
      // Assess
      expect(drained).toBe(true);
      expect(p.failures.some((e) => e instanceof AlertPublishError)).toBe(true);
      await p.reconcile('sns errors 2.4 s');
    });

    it('poller stopped while its batch is half-written, then a new poller in the same group: exactly once', async () => {
      // Prepare
      const p = await setup();
      let armed = false;
      const first = await p.startPoller(dynamoProxy.endpoint, sns.endpoint, () => {
        if (!armed) return;
        // The function died here: every later call fails, and the poller is stopped at once.
        dynamoProxy.setMode('reset');
        void first.stop();
      });
      await p.produce(200);
      await first.drain(20_000);
      // Act: in the next batch the journals and some bucket writes land, one bucket write
      // lands but its answer is lost, and the batch fails uncommitted
      const failuresBefore = p.failures.length;
      const redeliveredBefore = p.tally.redelivered;
      armed = true;
      dynamoProxy.failNext(1, 'lost-response', { match: 'PutItem', skip: PARTITIONS });
      await p.produce(120);
      for (let i = 0; i < 200 && p.failures.length === failuresBefore; i += 1) await sleep(25);
      await first.stop();
      dynamoProxy.setMode(null);
      await p.produce(120);
      const second = await p.startPoller(dynamoProxy.endpoint, sns.endpoint);
      const drained = await second.drain(30_000);
      // Assess: the new poller met records already decided (journaled) but not all applied
      expect(drained).toBe(true);
      expect(p.failures.length).toBeGreaterThan(failuresBefore);
      expect(p.tally.redelivered).toBeGreaterThan(redeliveredBefore);
      await p.reconcile('poller stopped mid-batch');
    });

    it('poller process killed (SIGKILL) mid-batch with writes in flight, then a new poller in the same group: exactly once', async () => {
      // Prepare: the pipeline in a child process, its DynamoDB calls through the proxy
      const p = await setup();
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          CHILD,
          JSON.stringify({
            brokers: [kafkaCluster.bootstrap],
            topic: p.topic,
            groupId: p.groupId,
            tableName: p.config.tableName,
            topicArn: p.config.topicArn,
            alertCooldownMs: COOLDOWN_MS,
            dynamodbEndpoint: dynamoProxy.endpoint,
            snsEndpoint: sns.endpoint,
            batchSize: 40,
          } satisfies Record<string, unknown>),
        ],
        { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, NODE_NO_WARNINGS: '1' } },
      );
      children.push(child);
      let ready = false;
      let invoked = 0;
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        const event = JSON.parse(line) as {
          type: string;
          records?: number;
          partition?: number;
          offset?: number;
        };
        if (event.type === 'ready') ready = true;
        if (event.type === 'invoked') invoked += 1;
        if (event.type === 'rejected') p.rejected.add(`${event.partition}:${event.offset}`);
      });
      for (let i = 0; i < 400 && !ready; i += 1) await sleep(50);
      expect(ready).toBe(true);
      await p.produce(200);
      for (let i = 0; i < 400 && invoked < 3; i += 1) await sleep(25);
      // Act: hold DynamoDB so the child is caught mid-batch, kill it, then let its writes land
      dynamoProxy.hold();
      await p.produce(120);
      for (let i = 0; i < 400 && dynamoProxy.heldRequests() === 0; i += 1) await sleep(10);
      expect(dynamoProxy.heldRequests()).toBeGreaterThan(0);
      await sleep(50);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      dynamoProxy.release();
      for (let i = 0; i < 200 && dynamoProxy.inFlight() > 0; i += 1) await sleep(10);
      await p.produce(120);
      const second = await p.startPoller(dynamoProxy.endpoint, sns.endpoint);
      const drained = await second.drain(30_000);
      // Assess
      expect(drained).toBe(true);
      await p.reconcile('poller process SIGKILLed mid-batch');
    });
  },
);
