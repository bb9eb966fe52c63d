import type { OpenPage, OpenWindowsRoot } from '../../batch/state.ts';
import type { Reading } from '../../core/types.ts';
import type { HeldReading } from '../../core/window-close.ts';

/**
 * The encodings of window-close state (docs/state.md, "Open windows"): an open page (one part
 * of one bucket start's held readings) and the root's `w` attribute (watermark, closing
 * cursor, the open pages' refs, a queued record).
 *
 * An open page is JSON text `[topic, partition, t0, o0, q0, [[sensorId, [v, t, o, q(, i)]…]…]]`:
 * event time, offset and arrival number relative to the page's first reading, so a reading of
 * a few decimals takes about 20 bytes. Its size is bounded by the batch path's splitter
 * (functions/batch/window-close/open-pages.ts: OPEN_PAGE_BUDGET_BYTES by a per-reading bound),
 * far below the 400 KB item limit.
 */

type Row =
  | [number | '-0', number, number, number]
  | [number | '-0', number, number, number, number];

/** JSON has no -0, and the seed prints `value=-0.0` for one: kept as the text "-0". */
const keepSign = (v: number): number | '-0' => (Object.is(v, -0) ? '-0' : v);
const readSign = (v: number | '-0'): number => (v === '-0' ? -0 : v);

export function encodeOpenPage(page: OpenPage): string {
  let first: HeldReading | undefined;
  for (const held of page.sensors.values()) {
    first = held[0];
    if (first !== undefined) break;
  }
  const t0 = first?.eventTimeMs ?? 0;
  const o0 = first?.source.offset ?? 0;
  const q0 = first?.seq ?? 0;
  const rows: [string, Row[]][] = [];
  for (const [sensorId, held] of page.sensors) {
    rows.push([
      sensorId,
      held.map((r): Row => {
        const row: Row = [keepSign(r.value), r.eventTimeMs - t0, r.source.offset - o0, r.seq - q0];
        return r.index ? [...row, r.index] : row;
      }),
    ]);
  }
  return JSON.stringify([
    first?.source.topic ?? '',
    first?.source.partition ?? 0,
    t0,
    o0,
    q0,
    rows,
  ]);
}

export function decodeOpenPage(text: string): OpenPage {
  const [topic, partition, t0, o0, q0, rows] = JSON.parse(text) as [
    string,
    number,
    number,
    number,
    number,
    [string, Row[]][],
  ];
  const sensors = new Map<string, HeldReading[]>();
  for (const [sensorId, held] of rows) {
    sensors.set(
      sensorId,
      held.map(([value, dt, doff, dq, index]) => ({
        value: readSign(value),
        eventTimeMs: t0 + dt,
        source: { topic, partition, offset: o0 + doff },
        seq: q0 + dq,
        ...(index === undefined ? {} : { index }),
      })),
    );
  }
  return { kind: 'open', sensors };
}

/** `[watermark | null, seq, cursor | null, movedAt, [[start, ttl, [gen…]]…], queued]` */
export function encodeOpenWindowsRoot(w: OpenWindowsRoot): string {
  const c = w.closing;
  return JSON.stringify([
    w.watermarkMs,
    w.seq,
    c === null ? null : [c.floorMs, c.endMs, c.sensorId, c.seq],
    w.movedAtMs,
    w.buckets.map((b) => [b.startMs, b.expiresAtEpochSeconds, b.parts]),
    w.queued.map((r) => [
      r.sensorId,
      keepSign(r.value),
      r.eventTimeMs,
      r.source.topic,
      r.source.partition,
      r.source.offset,
      r.index ?? 0,
    ]),
  ]);
}

export function decodeOpenWindowsRoot(text: string): OpenWindowsRoot {
  const [watermarkMs, seq, c, movedAtMs, buckets, queued] = JSON.parse(text) as [
    number | null,
    number,
    [number | null, number, string, number] | null,
    number,
    [number, number, string[]][],
    [string, number | '-0', number, string, number, number, number][],
  ];
  return {
    watermarkMs,
    seq,
    // JSON has no -Infinity: a floor before the first reading is stored as null.
    closing:
      c === null
        ? null
        : {
            floorMs: c[0] ?? Number.NEGATIVE_INFINITY,
            endMs: c[1],
            sensorId: c[2],
            seq: c[3],
          },
    movedAtMs,
    buckets: buckets.map(([startMs, expiresAtEpochSeconds, parts]) => ({
      startMs,
      expiresAtEpochSeconds,
      parts,
    })),
    queued: queued.map(
      ([sensorId, value, eventTimeMs, topic, partition, offset, index]): Reading => ({
        sensorId,
        value: readSign(value),
        eventTimeMs,
        source: { topic, partition, offset },
        ...(index === 0 ? {} : { index }),
      }),
    ),
  };
}
