/**
 * Collects what is written to stdout and stderr (Powertools writes INFO and EMF to stdout,
 * WARN and ERROR to stderr; Lambda sends both to CloudWatch Logs) while active.
 */
export function captureStdout(): {
  lines: () => string[];
  json: () => Record<string, unknown>[];
  restore: () => void;
} {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((s) => s.write.bind(s));
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof stream.write;
  }
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l.trim() !== '');
  return {
    lines,
    json: () =>
      lines().flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    restore: () => {
      streams.forEach((s, i) => {
        s.write = originals[i] as typeof s.write;
      });
    },
  };
}
