import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const KCAT_INSTALL_HINT =
  'install it with `apt-get update && apt-get install -y kcat` (Debian/Ubuntu; brew install kcat on macOS)';

export class MockKafkaError extends Error {
  override readonly name = 'MockKafkaError';
}

export interface MockKafka {
  /** `127.0.0.1:PORT`: the mock cluster's bootstrap address. */
  readonly bootstrap: string;
  close(): Promise<void>;
}

/** The binary, found on PATH (`KCAT_BIN` overrides). */
export function kcatPath(): string | null {
  const override = process.env.KCAT_BIN;
  if (override !== undefined && override !== '') return isExecutable(override) ? override : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    for (const name of ['kcat', 'kafkacat']) {
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return null;
}

export function kcatAvailable(): boolean {
  const bin = kcatPath();
  if (bin === null) return false;
  // A binary that cannot start (missing librdkafka) is as good as none.
  return spawnSync(bin, ['-V'], { stdio: 'ignore', timeout: 5000 }).status === 0;
}

const BOOTSTRAP_LINE = /Mock cluster enabled.*replaced with (\S+:\d+)/;
const START_TIMEOUT_MS = 10_000;

/**
 * librdkafka's mock cluster, hosted by a kcat producer that never sends: kcat runs as long
 * as its stdin pipe stays open, and must have its stderr drained or it blocks. Topics
 * auto-create with 4 partitions; CreateTopics, idempotent and transactional producers are
 * not supported.
 */
export async function startMockKafka(options: { brokers?: number } = {}): Promise<MockKafka> {
  const bin = kcatPath();
  if (bin === null) {
    throw new MockKafkaError(
      `kcat not found: ${KCAT_INSTALL_HINT}, or set KAFKA_BROKERS to a running broker`,
    );
  }
  const brokers = options.brokers ?? 1;
  const child = spawn(
    bin,
    ['-b', '127.0.0.1:1', '-X', `test.mock.num.brokers=${brokers}`, '-P', '-t', '__mock_keepalive'],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stopOnParentExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnParentExit);

  let stderrTail = '';
  try {
    const bootstrap = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new MockKafkaError(
              `kcat did not report a mock cluster within ${START_TIMEOUT_MS} ms: ${stderrTail}`,
            ),
          ),
        START_TIMEOUT_MS,
      );
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(
          new MockKafkaError(`kcat could not start (${error.message}); ${KCAT_INSTALL_HINT}`, {
            cause: error,
          }),
        );
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new MockKafkaError(
            `kcat exited (${signal ?? code}) before the mock cluster was up: ${stderrTail}`,
          ),
        );
      });
      child.stderr?.setEncoding('utf8');
      // Always drained, also after start-up: a full stderr pipe would freeze kcat and the brokers.
      child.stderr?.on('data', (text: string) => {
        stderrTail = (stderrTail + text).slice(-2000);
        const match = BOOTSTRAP_LINE.exec(stderrTail);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    return {
      bootstrap,
      close: async () => {
        process.off('exit', stopOnParentExit);
        if (child.exitCode !== null || child.signalCode !== null) return;
        // Closing stdin is kcat's normal way out; SIGTERM/SIGKILL if it lingers.
        child.stdin?.end();
        const killTimer = setTimeout(() => child.kill('SIGTERM'), 1000);
        const hardTimer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(killTimer);
        clearTimeout(hardTimer);
      },
    };
  } catch (error) {
    process.off('exit', stopOnParentExit);
    child.kill('SIGKILL');
    throw error;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
