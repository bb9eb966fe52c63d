import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProducerReport, RunCommand } from './load-producer.ts';

/**
 * The parent's side of the load producer (load-producer.ts), a fleet of sensors in its own
 * process so that producing never takes the CPU of the pipeline it measures: start it, ask it
 * for a run at a rate, hear the probes it sent and what it produced.
 */

export interface FleetRun {
  readonly produced: number;
  readonly elapsedMs: number;
  readonly probes: readonly { sensorId: string; sentMs: number }[];
}

export interface Fleet {
  run(command: Omit<RunCommand, 'type'>): Promise<FleetRun>;
  stop(): Promise<void>;
}

export async function startFleet(bootstrap: string, topic: string): Promise<Fleet> {
  const child: ChildProcess = fork(
    fileURLToPath(new URL('./load-producer.ts', import.meta.url)),
    [bootstrap, topic],
    {
      execArgv: ['--import', 'tsx', '--no-warnings'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const early = (code: number | null) =>
      reject(new Error(`load producer exited (${code}) before it was ready`));
    child.once('error', reject);
    child.once('exit', early);
    child.on('message', (m: ProducerReport) => {
      if (m.type !== 'ready') return;
      child.off('exit', early);
      resolve();
    });
  });
  return {
    run: (command) =>
      new Promise<FleetRun>((resolve, reject) => {
        const probes: { sensorId: string; sentMs: number }[] = [];
        const onExit = (code: number | null) =>
          reject(new Error(`load producer exited (${code}) mid-run`));
        const onMessage = (m: ProducerReport) => {
          if (m.type === 'probe') probes.push({ sensorId: m.sensorId, sentMs: m.sentMs });
          if (m.type === 'done') {
            child.off('message', onMessage);
            child.off('exit', onExit);
            resolve({ produced: m.produced, elapsedMs: m.elapsedMs, probes });
          }
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send({ type: 'run', ...command } satisfies RunCommand);
      }),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
