import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * dynalite in a process of its own, so the end-to-end bench can show how much of the local
 * pipeline's limit is dynalite sharing one event loop with the poller and the handler.
 * Run directly, this file is the child: it starts dynalite and reports its endpoint.
 */
export async function startDynaliteProcess(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child'], {
    execArgv: ['--import', 'tsx', '--no-warnings'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`dynalite process exited (${code}) before it was up`)),
    );
    child.once('message', (m: { endpoint: string }) => resolve(m.endpoint));
  });
  return {
    endpoint,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.argv.includes('--child')) {
  const { startDynamoDb } = await import('../../local/embedded/dynamodb.ts');
  const dynamo = await startDynamoDb();
  process.send?.({ endpoint: dynamo.endpoint });
  process.on('SIGTERM', () => {
    void dynamo.close().finally(() => process.exit(0));
  });
  // A parent that dies without stopping us closes the IPC channel: do not outlive it.
  process.on('disconnect', () => process.exit(0));
}
