import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recordsFromEvent } from '../../functions/kafka-event.ts';
import {
  kcatPath,
  type MockKafka,
  startMockKafka,
} from '../../local/embedded/kafka-mock-cluster.ts';
import { describeWithKafka } from '../helpers/kafka-available.ts';

// The pieces of scripts/replay/replay-dead-letters.sh that need no AWS account: the offset
// ranges of a dead-letter message, and the records kcat reads back for them, turned into the
// event the function gets from the mapping. AWS's example message is from the Lambda developer
// guide, "Capturing discarded batches for Amazon MSK and self-managed Apache Kafka event
// sources" (https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html).

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../scripts/replay/', import.meta.url));

async function jq(args: string[], input: string): Promise<string> {
  const child = execFile('jq', args);
  const out = new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (d) => {
      stdout += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`jq exited ${code}`)),
    );
  });
  child.stdin?.end(input);
  return out;
}

describeWithKafka('replaying a dead-letter message', () => {
  let kafka: MockKafka;
  const topic = 'plant-a.readings';
  const readings = Array.from({ length: 12 }, (_, i) => ({
    key: `boiler-${i % 3}`,
    value: `boiler-${i % 3},${20 + i},${1_700_000_000_000 + i * 1000}`,
  }));

  beforeAll(async () => {
    kafka = await startMockKafka();
    const producer = new Kafka({
      clientId: 'replay-test',
      brokers: [kafka.bootstrap],
      logLevel: logLevel.NOTHING,
    }).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({
      topic,
      messages: readings.map((r) => ({ ...r, partition: 1 })),
    });
    await producer.disconnect();
  });

  afterAll(async () => {
    await kafka?.close();
  });

  it('finds the offsets of each topic-partition in the message', async () => {
    const body = {
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 },
      KafkaBatchInfo: {
        batchSize: 500,
        recordsInfo: {
          'plant-a.readings-1': { firstRecordOffset: '3', lastRecordOffset: '9' },
          'my-topic-with-dashes-12': { firstRecordOffset: '100', lastRecordOffset: '100' },
        },
      },
    };
    const lines = await jq(['-r', '-f', `${SCRIPTS}dead-letter-ranges.jq`], JSON.stringify(body));
    expect(lines.trim().split('\n')).toEqual([
      'plant-a.readings 1 3 9',
      'my-topic-with-dashes 12 100 100',
    ]);
  });

  it('reads those offsets back as the event the function decodes to the same records', async () => {
    const kcat = kcatPath();
    if (kcat === null) throw new Error('kcat not found');
    const consumed = await run(kcat, [
      '-C',
      '-b',
      kafka.bootstrap,
      '-t',
      topic,
      '-p',
      '1',
      '-o',
      '3',
      '-c',
      '7',
      '-e',
      '-J',
      '-q',
    ]);
    const event = JSON.parse(
      await jq(
        ['-s', '--arg', 'brokers', kafka.bootstrap, '-f', `${SCRIPTS}kcat-to-kafka-event.jq`],
        consumed.stdout,
      ),
    );
    expect(event).toMatchObject({
      eventSource: 'SelfManagedKafka',
      bootstrapServers: kafka.bootstrap,
    });
    expect(Object.keys(event.records)).toEqual(['plant-a.readings-1']);
    const records = recordsFromEvent(event);
    expect(
      records.map((r) => [r.topic, r.partition, r.offset, r.key?.toString(), r.value?.toString()]),
    ).toEqual(readings.slice(3, 10).map((r, i) => [topic, 1, 3 + i, r.key, r.value]));
    for (const r of records) expect(r.timestampMs).toBeGreaterThan(0);
  });
});
