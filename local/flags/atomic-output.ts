import { once } from 'node:events';
import { createWriteStream, renameSync, rmSync, type WriteStream, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * An output file that appears whole or not at all: written to a hidden temporary file beside
 * it, renamed over the target on success (a rename within one directory is atomic on POSIX),
 * removed on failure or Ctrl-C. `-` is standard output.
 */
export interface AtomicOutput {
  readonly stream: NodeJS.WritableStream & { readonly writableNeedDrain: boolean };
  /** Flushes and renames into place. */
  commit(): Promise<void>;
  /** Removes the temporary file (idempotent). */
  abort(): void;
}

const pending = new Set<() => void>();
let handlersInstalled = false;

/** On Ctrl-C or SIGTERM, every unfinished output is removed before the process ends. */
function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      for (const abort of [...pending]) abort();
      process.stderr.write('\ninterrupted: no output file written\n');
      process.exit(code);
    });
  }
}

function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
}

/** `… -o - | head`: a reader that stops early ends the run quietly, as with any Unix tool. */
let stdoutWatched = false;
function quietOnClosedStdout(): void {
  if (stdoutWatched) return;
  stdoutWatched = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

export function openAtomicOutput(path: string): AtomicOutput {
  if (path === '-') {
    quietOnClosedStdout();
    return { stream: process.stdout, commit: async () => {}, abort: () => {} };
  }
  installSignalHandlers();
  const temporary = temporaryPath(path);
  const stream: WriteStream = createWriteStream(temporary, 'utf8');
  let settled = false;
  const abort = () => {
    if (settled) return;
    settled = true;
    pending.delete(abort);
    stream.destroy();
    rmSync(temporary, { force: true });
  };
  pending.add(abort);
  return {
    stream,
    abort,
    async commit() {
      stream.end();
      await once(stream, 'finish');
      settled = true;
      pending.delete(abort);
      renameSync(temporary, path);
    },
  };
}

/** writeFileSync, whole or not at all; `-` writes to standard output. */
export function writeFileAtomic(path: string, body: string): void {
  if (path === '-') {
    quietOnClosedStdout();
    process.stdout.write(body);
    return;
  }
  const temporary = temporaryPath(path);
  try {
    writeFileSync(temporary, body);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
