import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startDynamoDb } from '../../local/embedded/dynamodb.ts';
import { startSnsEndpoint } from '../../local/embedded/sns-endpoint.ts';

/**
 * The soak's stores in a child process (the soak's own file with `--role services`): dynalite
 * and the SNS endpoint keep every item and message, which grows by design, so they must not
 * count in the heap that the soak watches for leaks.
 */

export /** The child: dynalite and the SNS endpoint; answers `stats` on stdin with a JSON line. */
async function runServices(): Promise<void> {
  const [dynamo, sns] = await Promise.all([startDynamoDb(), startSnsEndpoint()]);
  const alertIds = new Set<string>();
  let messages = 0;
  // Not an alert: resolved notices, digests and silence notices carry no alert id.
  let otherMessages = 0;
  let unparsed = 0;
  sns.onMessage((m) => {
    messages += 1;
    try {
      const payload = JSON.parse(JSON.parse(m.message).sqs) as { alertId?: unknown };
      if (typeof payload.alertId === 'string') alertIds.add(payload.alertId);
      else otherMessages += 1;
    } catch {
      unparsed += 1;
    }
    // The endpoint keeps every message; the soak only needs the counts.
    sns.messages.length = 0;
  });
  process.stdout.write(
    `${JSON.stringify({ type: 'ready', dynamodb: dynamo.endpoint, sns: sns.endpoint })}\n`,
  );
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    if (line.trim() === 'stats') {
      const { rss } = process.memoryUsage();
      process.stdout.write(
        `${JSON.stringify({ type: 'stats', messages, distinctAlertIds: alertIds.size, otherMessages, unparsed, rssBytes: rss })}\n`,
      );
    }
  });
  input.on('close', () => {
    void Promise.all([dynamo.close(), sns.close()]).finally(() => process.exit(0));
  });
}

/** What the stores saw: SNS messages, the alerts among them by id, and the RSS. */
export interface ServicesStats {
  readonly messages: number;
  readonly distinctAlertIds: number;
  readonly otherMessages: number;
  /** Messages whose body was not our JSON: each one is a failed check. */
  readonly unparsed: number;
  readonly rssBytes: number;
}

export interface ServicesChild {
  readonly dynamodb: string;
  readonly sns: string;
  stats(): Promise<ServicesStats>;
  stop(): Promise<void>;
}

/** Starts `entry --role services` and waits until it names its endpoints. */
export async function startServicesChild(entry: string): Promise<ServicesChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', entry, '--role', 'services'],
    { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  const waiting: ((line: Record<string, unknown>) => void)[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    waiting.shift()?.(parsed);
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolveLine) => waiting.push(resolveLine));
  const ready = await next();
  return {
    dynamodb: String(ready.dynamodb),
    sns: String(ready.sns),
    async stats() {
      const answer = next();
      child.stdin?.write('stats\n');
      return (await answer) as unknown as ServicesStats;
    },
    async stop() {
      const exited = new Promise((done) => child.once('exit', done));
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
