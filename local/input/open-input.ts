import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export class InputOpenError extends Error {
  override readonly name = 'InputOpenError';
}

export interface OpenedInput {
  readonly lines: AsyncIterable<string>;
  /** The input was gzip-compressed (read through gunzip). */
  readonly gzip: boolean;
  /** The input had no bytes at all. */
  readonly empty: boolean;
  /** Bytes of the file read so far, compressed (0 for standard input: its size is unknown). */
  bytesRead(): number;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * Opens a file (or `-`, standard input) as lines, gunzipping it when it starts with gzip's
 * magic bytes (RFC 1952 §2.3.1: ID1 = 31, ID2 = 139), whatever its name. A file that cannot
 * be opened is an InputOpenError naming it and why.
 */
export async function openInput(path: string): Promise<OpenedInput> {
  const source: Readable = path === '-' ? process.stdin : createReadStream(path);
  const first = await firstChunk(source).catch((error: NodeJS.ErrnoException) => {
    throw new InputOpenError(`cannot read ${path} (${error.code ?? error.message})`);
  });
  const bytesRead = () => ('bytesRead' in source ? Number(source.bytesRead) : 0);
  if (first === null)
    return { lines: (async function* () {})(), gzip: false, empty: true, bytesRead };
  source.unshift(first);
  const gzip = first[0] === GZIP_MAGIC[0] && first[1] === GZIP_MAGIC[1];
  const input = gzip ? source.pipe(createGunzip()) : source;
  if (gzip) {
    // A corrupt archive is named, not a stack trace.
    source.on('error', (error) => input.destroy(error));
  }
  input.setEncoding('utf8');
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const named = async function* () {
    try {
      yield* lines;
    } catch (error) {
      throw new InputOpenError(
        `cannot read ${path}${gzip ? ' (gzip)' : ''}: ${(error as Error).message}`,
      );
    }
  };
  return { lines: named(), gzip, empty: false, bytesRead };
}

/** The first chunk of a stream as bytes, or null when it ends without one. */
async function firstChunk(source: Readable): Promise<Buffer | null> {
  for (;;) {
    const chunk = source.read() as Buffer | string | null;
    if (chunk !== null) return typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (source.readableEnded) return null;
    const ended = once(source, 'end').then(() => 'end' as const);
    const readable = once(source, 'readable').then(() => 'readable' as const);
    if ((await Promise.race([ended, readable])) === 'end') return null;
  }
}
