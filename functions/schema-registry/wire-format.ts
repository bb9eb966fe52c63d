/**
 * The two framings of schema-registry values, read without their schemas.
 *
 * Confluent: magic byte 0, the schema id as a 4-byte big-endian integer, the payload
 * (https://docs.confluent.io/platform/current/schema-registry/fundamentals/serdes-develop/index.html#wire-format).
 * AWS Glue: header version byte 3, a compression byte (0 none, 5 zlib), the schema version
 * id as a 16-byte UUID, the payload (awslabs/aws-glue-schema-registry,
 * GlueSchemaRegistryDeserializerDataParser: "We should be at least 18 bytes long").
 */
export type Framed =
  | { readonly registry: 'confluent'; readonly schemaId: number; readonly payload: Uint8Array }
  | {
      readonly registry: 'glue';
      readonly schemaVersionId: string;
      readonly zlib: boolean;
      readonly payload: Uint8Array;
    };

export const CONFLUENT_MAGIC_BYTE = 0;
export const GLUE_HEADER_VERSION = 3;
const GLUE_NO_COMPRESSION = 0;
const GLUE_ZLIB = 5;
const CONFLUENT_HEADER_BYTES = 5;
const GLUE_HEADER_BYTES = 18;

/** The framing of a value, a reason it is broken, or null when it is not framed at all. */
export function unframe(bytes: Uint8Array): Framed | { readonly broken: string } | null {
  const first = bytes[0];
  if (first === CONFLUENT_MAGIC_BYTE) {
    if (bytes.length < CONFLUENT_HEADER_BYTES) {
      return { broken: `${bytes.length} bytes: shorter than the 5-byte Confluent header` };
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {
      registry: 'confluent',
      schemaId: view.getUint32(1),
      payload: bytes.subarray(CONFLUENT_HEADER_BYTES),
    };
  }
  if (first === GLUE_HEADER_VERSION) {
    if (bytes.length < GLUE_HEADER_BYTES) {
      return { broken: `${bytes.length} bytes: shorter than the 18-byte Glue header` };
    }
    const compression = bytes[1];
    if (compression !== GLUE_NO_COMPRESSION && compression !== GLUE_ZLIB) {
      return { broken: `unknown Glue compression byte ${compression}` };
    }
    return {
      registry: 'glue',
      schemaVersionId: uuid(bytes.subarray(2, GLUE_HEADER_BYTES)),
      zlib: compression === GLUE_ZLIB,
      payload: bytes.subarray(GLUE_HEADER_BYTES),
    };
  }
  return null;
}

/** Frames a payload as Confluent's serializers do (tests and the fixture writer use it). */
export function confluentFrame(schemaId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(CONFLUENT_HEADER_BYTES + payload.length);
  new DataView(out.buffer).setUint32(1, schemaId);
  out.set(payload, CONFLUENT_HEADER_BYTES);
  return out;
}

/** Frames a payload as Glue's serializers do, uncompressed or already zlib-compressed. */
export function glueFrame(schemaVersionId: string, payload: Uint8Array, zlib = false): Uint8Array {
  const out = new Uint8Array(GLUE_HEADER_BYTES + payload.length);
  out[0] = GLUE_HEADER_VERSION;
  out[1] = zlib ? GLUE_ZLIB : GLUE_NO_COMPRESSION;
  out.set(Buffer.from(schemaVersionId.replaceAll('-', ''), 'hex'), 2);
  out.set(payload, GLUE_HEADER_BYTES);
  return out;
}

function uuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Reads the varints that precede a Protobuf payload: Confluent writes the message-index path
 * as a zigzag count and zigzag indexes, the common [0] as a single 0 byte; Glue writes one
 * unsigned index (ProtobufWireFormatEncoder: writeUInt32NoTag). Returns the indexes and
 * where the message starts.
 */
export function readMessageIndexes(
  payload: Uint8Array,
  registry: 'confluent' | 'glue',
): { readonly indexes: number[]; readonly start: number } {
  let at = 0;
  const varint = (): number => {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = payload[at];
      if (b === undefined) throw new Error('truncated message index');
      at += 1;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new Error('message index varint too long');
  };
  const zigzag = (n: number) => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);
  if (registry === 'glue') return { indexes: [varint()], start: at };
  const count = zigzag(varint());
  if (count === 0) return { indexes: [0], start: at };
  if (count < 0 || count > 100) throw new Error(`message index count ${count}`);
  const indexes: number[] = [];
  for (let i = 0; i < count; i += 1) indexes.push(zigzag(varint()));
  return { indexes, start: at };
}
