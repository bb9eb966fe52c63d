/**
 * The structure of a Lambda Kafka event, without its values: which keys exist at each
 * level, with which JSON types, and the formats that matter (base64 payloads, byte-array
 * headers, "topic-partition" group keys). Two events with equal shapes are interchangeable
 * for a handler.
 */
export type Shape = string | Shape[] | { [key: string]: Shape };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function kafkaEventShape(event: unknown): Shape {
  const e = event as Record<string, unknown>;
  const top: Record<string, Shape> = {};
  for (const [key, value] of Object.entries(e)) {
    if (key !== 'records') top[key] = typeof value;
  }
  const groups = Object.entries((e.records ?? {}) as Record<string, unknown[]>);
  // Every group key is "<topic>-<partition>" of its own records; one group stands for all.
  const groupShapes = groups.map(([groupKey, records]) => {
    const ok = records.every((r) => {
      const rec = r as { topic: string; partition: number };
      return groupKey === `${rec.topic}-${rec.partition}`;
    });
    return {
      [ok ? '<topic>-<partition>' : `BAD GROUP KEY ${groupKey}`]: [recordShape(records[0])],
    };
  });
  top.records = groupShapes[0] ?? {};
  return top;
}

function recordShape(record: unknown): Shape {
  const r = record as Record<string, unknown>;
  const shape: Record<string, Shape> = {};
  for (const [key, value] of Object.entries(r)) {
    if (key === 'key' || key === 'value') {
      shape[key] =
        typeof value === 'string' && BASE64.test(value) ? 'base64' : `not base64: ${typeof value}`;
    } else if (key === 'headers') {
      shape[key] = Array.isArray(value)
        ? value.slice(0, 1).map(headerShape)
        : `not an array: ${typeof value}`;
    } else if (key === 'timestampType') {
      shape[key] =
        value === 'CREATE_TIME' || value === 'LOG_APPEND_TIME'
          ? 'CREATE_TIME|LOG_APPEND_TIME'
          : String(value);
    } else {
      shape[key] = Number.isInteger(value) ? 'integer' : typeof value;
    }
  }
  return Object.fromEntries(Object.entries(shape).sort(([a], [b]) => a.localeCompare(b)));
}

function headerShape(header: unknown): Shape {
  const entries = Object.entries(header as Record<string, unknown>);
  if (entries.length !== 1) return `header with ${entries.length} keys`;
  const [, bytes] = entries[0] as [string, unknown];
  const isBytes =
    Array.isArray(bytes) && bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255);
  return { '<header name>': isBytes ? 'byte values' : `not byte values: ${JSON.stringify(bytes)}` };
}
