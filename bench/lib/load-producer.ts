import { Kafka, logLevel, type Message } from 'kafkajs';

/**
 * The end-to-end bench's sensor fleet, in its own process so that producing does not eat
 * the pipeline's CPU in the same event loop (producers run elsewhere in production too).
 * Driven over IPC by bench/lib/load-producer-client.ts (for bench/parts/e2e.ts): `{ type: 'run', ... }` produces at a rate for a
 * while and answers with progress, probe and done messages; `{ type: 'stop' }` exits.
 */
export interface RunCommand {
  readonly type: 'run';
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly sensors: number;
  /** Send one probe anomaly this often (0 = none): a fresh sensor, one normal reading, then a spike. */
  readonly probeEveryMs: number;
}

export type ProducerReport =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly produced: number }
  | { readonly type: 'probe'; readonly sensorId: string; readonly sentMs: number }
  | { readonly type: 'done'; readonly produced: number; readonly elapsedMs: number };

const TICK_MS = 50;

async function main(): Promise<void> {
  const [bootstrap, topic] = process.argv.slice(2);
  if (bootstrap === undefined || topic === undefined)
    throw new Error('usage: load-producer.ts <bootstrap> <topic>');
  const kafka = new Kafka({
    clientId: 'bench-fleet',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
  });
  // The mock cluster supports neither idempotent nor transactional producers.
  const producer = kafka.producer({ allowAutoTopicCreation: true, idempotent: false });
  await producer.connect();
  const report = (r: ProducerReport) => process.send?.(r);
  let probes = 0;

  process.on('message', async (command: RunCommand | { type: 'stop' }) => {
    if (command.type === 'stop') {
      await producer.disconnect();
      process.exit(0);
    }
    const startedMs = Date.now();
    let produced = 0;
    let nextSensor = 0;
    let nextProbeMs = startedMs + command.probeEveryMs;
    let lastProgressMs = startedMs;
    while (Date.now() - startedMs < command.durationMs) {
      const due = Math.floor(((Date.now() - startedMs) / 1000) * command.ratePerSecond) - produced;
      const messages: Message[] = [];
      for (let i = 0; i < due; i += 1) {
        const sensorId = `sensor_${nextSensor}`;
        nextSensor = (nextSensor + 1) % command.sensors;
        // Steady values: no anomalies but the probes, so every notification is a probe's.
        messages.push({ key: sensorId, value: `${sensorId},${50 + ((produced + i) % 7)}` });
      }
      let probe: string | undefined;
      if (command.probeEveryMs > 0 && Date.now() >= nextProbeMs) {
        probe = `probe_${process.pid}_${probes}`;
        probes += 1;
        nextProbeMs += command.probeEveryMs;
        // Same key, same partition, in order: the spike is judged against the normal reading.
        messages.push({ key: probe, value: `${probe},50` }, { key: probe, value: `${probe},500` });
      }
      if (messages.length > 0) {
        const sentMs = Date.now();
        await producer.send({ topic, messages });
        produced += messages.length - (probe === undefined ? 0 : 2);
        if (probe !== undefined) report({ type: 'probe', sensorId: probe, sentMs });
      }
      if (Date.now() - lastProgressMs >= 500) {
        lastProgressMs = Date.now();
        report({ type: 'progress', produced });
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    report({ type: 'done', produced, elapsedMs: Date.now() - startedMs });
  });
  // A parent that dies without stopping us closes the IPC channel: do not outlive it.
  process.on('disconnect', () => process.exit(0));
  report({ type: 'ready' });
}

main().catch((error) => {
  process.stderr.write(`load producer: ${(error as Error).stack}\n`);
  process.exit(1);
});
