import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

/** An input file argument opened for reading; `-` is standard input. */
export interface OpenedInput {
  readonly stream: Readable;
  /** Bytes read so far (0 for standard input: its size is unknown). */
  bytesRead(): number;
}

/** Opens `path` (rejecting with the fs error, e.g. ENOENT, before any line is read). */
export async function openInput(path: string): Promise<OpenedInput> {
  if (path === '-') return { stream: process.stdin, bytesRead: () => 0 };
  const stream = createReadStream(path, 'utf8');
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.once('open', () => {
      stream.off('error', reject);
      resolve();
    });
  });
  return { stream, bytesRead: () => stream.bytesRead };
}
