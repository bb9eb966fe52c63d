import type { BucketPage } from '../../batch/state.ts';

/**
 * `[flags][slots: varint]` then per slot a varint `count·8 + code` and, if count > 0, the sum,
 * and (flag 1) a varint code and the sum of squares. No sensor id: the dictionary's index.
 * A number is stored as a zigzag varint of `x·10^(code−1)` when that integer gives back
 * exactly the same double (code 1–7: sensor values with a few decimals, three or four bytes
 * instead of eight), else as a little-endian double (code 0).
 */
export function encodeBucket(page: BucketPage): Uint8Array {
  const n = page.count.length;
  const withSq = page.sumSq !== null;
  const out = Buffer.alloc(1 + 5 + n * (6 + 9 + (withSq ? 9 : 0)));
  let at = 0;
  out[at++] = withSq ? 1 : 0;
  at = writeVarint(out, at, n);
  for (let i = 0; i < n; i += 1) {
    const count = page.count[i] as number;
    if (count === 0) {
      out[at++] = 0;
      continue;
    }
    const sum = page.sum[i] as number;
    const code = scaleCode(sum);
    at = writeVarint(out, at, count * 8 + code);
    at = writeNumber(out, at, sum, code);
    if (withSq) {
      const sq = (page.sumSq as readonly number[])[i] as number;
      const sqCode = scaleCode(sq);
      out[at++] = sqCode;
      at = writeNumber(out, at, sq, sqCode);
    }
  }
  return new Uint8Array(out.buffer, out.byteOffset, at);
}

export function decodeBucket(bytes: Uint8Array): BucketPage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) return { kind: 'bucket', count: [], sum: [], sumSq: null };
  let at = 0;
  const withSq = buf[at++] === 1;
  const [n, next] = readVarint(buf, at);
  at = next;
  const count: number[] = new Array(n);
  const sum: number[] = new Array(n);
  const sumSq: number[] | null = withSq ? new Array(n) : null;
  for (let i = 0; i < n; i += 1) {
    const [header, after] = readVarint(buf, at);
    at = after;
    const c = Math.floor(header / 8);
    count[i] = c;
    if (c === 0) {
      sum[i] = 0;
      if (sumSq !== null) sumSq[i] = 0;
      continue;
    }
    [sum[i] as number, at] = readNumber(buf, at, header % 8);
    if (sumSq !== null) {
      const code = buf[at++] as number;
      [sumSq[i] as number, at] = readNumber(buf, at, code);
    }
  }
  return { kind: 'bucket', count, sum, sumSq };
}

const SCALES = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];
/** Zigzag values below this fit a varint of at most 7 bytes: shorter than a double. */
const SCALED_LIMIT = 2 ** 48;

/** 1 + the power of ten that makes `x` an integer giving back exactly `x`; 0: none does. */
function scaleCode(x: number): number {
  for (let e = 0; e < SCALES.length; e += 1) {
    const k = SCALES[e] as number;
    const q = Math.round(x * k);
    if (Math.abs(q) < SCALED_LIMIT / 2 && q / k === x && !Object.is(x, -0)) return e + 1;
  }
  return 0;
}

function writeNumber(out: Buffer, at: number, x: number, code: number): number {
  if (code === 0) {
    out.writeDoubleLE(x, at);
    return at + 8;
  }
  const q = Math.round(x * (SCALES[code - 1] as number));
  return writeVarint(out, at, q >= 0 ? 2 * q : -2 * q - 1);
}

function readNumber(buf: Buffer, at: number, code: number): [number, number] {
  if (code === 0) return [buf.readDoubleLE(at), at + 8];
  const [z, next] = readVarint(buf, at);
  const q = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  return [q / (SCALES[code - 1] as number), next];
}

function writeVarint(out: Buffer, at: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    out[at++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[at++] = v;
  return at;
}

function readVarint(buf: Buffer, start: number): [number, number] {
  let value = 0;
  let scale = 1;
  let at = start;
  for (;;) {
    const b = buf[at++] as number;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, at];
    scale *= 128;
  }
}
