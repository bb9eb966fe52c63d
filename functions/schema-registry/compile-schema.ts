import avsc from 'avsc';
import protobuf from 'protobufjs';
import { readMessageIndexes } from './wire-format.ts';

/** Schema types as the Confluent registry names them (Glue: DataFormat, the same words). */
export const SCHEMA_TYPES = ['AVRO', 'PROTOBUF', 'JSON'] as const;
export type SchemaType = (typeof SCHEMA_TYPES)[number];

/** A schema ready to decode payloads: throws on a payload that does not fit it. */
export interface CompiledSchema {
  readonly type: SchemaType;
  decode(payload: Uint8Array, registry: 'confluent' | 'glue'): unknown;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Compiles a schema's text; throws (with the library's message) when it does not parse. */
export function compileSchema(type: SchemaType, text: string): CompiledSchema {
  if (type === 'AVRO') return avroSchema(text);
  if (type === 'PROTOBUF') return protobufSchema(text);
  // JSON Schema values are JSON text: the schema constrains producers, the reading rules
  // judge what arrives (a value that breaks the schema still has to be a valid reading).
  return { type, decode: (payload) => JSON.parse(utf8.decode(payload)) as unknown };
}

function avroSchema(text: string): CompiledSchema {
  const avroType = avsc.Type.forSchema(JSON.parse(text));
  return {
    type: 'AVRO',
    // fromBuffer throws on truncated input and on trailing bytes.
    decode: (payload) =>
      avroType.fromBuffer(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)),
  };
}

function protobufSchema(text: string): CompiledSchema {
  const parsed = protobuf.parse(text, { keepCase: true });
  parsed.root.resolveAll();
  const file = parsed.package === undefined ? parsed.root : parsed.root.lookup(parsed.package);
  if (!(file instanceof protobuf.Namespace)) throw new Error('no message types in the schema');
  const topLevel = messagesOf(file);
  if (topLevel.length === 0) throw new Error('no message types in the schema');
  const glueOrder = glueMessageOrder(topLevel);
  const toObject = { longs: Number, enums: String, defaults: true } as const;
  return {
    type: 'PROTOBUF',
    decode: (payload, registry) => {
      const { indexes, start } = readMessageIndexes(payload, registry);
      const messageType =
        registry === 'glue' ? glueOrder[indexes[0] as number] : confluentPath(topLevel, indexes);
      if (messageType === undefined)
        throw new Error(`no message type at index ${indexes.join('.')}`);
      const message = messageType.decode(payload.subarray(start));
      return messageType.toObject(message, toObject);
    },
  };
}

function messagesOf(namespace: protobuf.NamespaceBase): protobuf.Type[] {
  return namespace.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
}

/** Confluent: the path from the file's top-level messages through nested ones, in declaration order. */
function confluentPath(topLevel: readonly protobuf.Type[], indexes: readonly number[]) {
  let candidates: readonly protobuf.Type[] = topLevel;
  let found: protobuf.Type | undefined;
  for (const index of indexes) {
    found = candidates[index];
    if (found === undefined) return undefined;
    candidates = messagesOf(found);
  }
  return found;
}

/** Glue: every message type, level by level, sorted by full name (MessageIndexFinder.getAll). */
function glueMessageOrder(topLevel: readonly protobuf.Type[]): protobuf.Type[] {
  const all: protobuf.Type[] = [];
  const queue = [...topLevel];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    all.push(next);
    queue.push(...messagesOf(next));
  }
  const name = (t: protobuf.Type) => t.fullName.replace(/^\./, '');
  return all.sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
}
