import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ITEM_LIMIT_BYTES } from '../../functions/adapters/dynamodb/codecs.ts';
import {
  pageItem,
  readPageItem,
  readRootItem,
  rootItem,
} from '../../functions/adapters/dynamodb/partition-store.ts';
import type { OpenPage, PartitionRoot } from '../../functions/batch/state.ts';
import { cutParts, openKey } from '../../functions/batch/window-close/open-pages.ts';
import type { HeldReading } from '../../functions/core/window-close.ts';
import { lawParameters, lawRuns } from '../helpers/fc-params.ts';

/** DynamoDB's size of an item: names and values, UTF-8 (strings) or raw (binary). */
function itemBytes(item: ReturnType<typeof pageItem>): number {
  let n = 0;
  for (const [name, v] of Object.entries(item)) {
    n += Buffer.byteLength(name);
    if (v.S !== undefined) n += Buffer.byteLength(v.S);
    else if (v.N !== undefined) n += v.N.length;
    else if (v.B !== undefined) n += v.B.length;
  }
  return n;
}

const TOPIC = 't'.repeat(249);
const PID = `AbCdEfGhIj#${TOPIC}#2147483647`;

function held(i: number, value: number): HeldReading {
  return {
    value,
    eventTimeMs: 8_640_000_000_000 - i,
    source: { topic: TOPIC, partition: 2_147_483_647, offset: 9_007_199_254_740_991 - i },
    seq: 9_007_199_254_740_991 - 100_000 + i,
    index: 63,
  };
}

describe('open pages: bounded in bytes, read back as written', () => {
  it('every part of a fleet of 256-byte ids that JSON escapes, with the longest numbers, fits an item', () => {
    // Prepare: 1,500 sensors of 256-byte ids of quotes and backslashes, 40 readings each.
    const readings = new Map<string, HeldReading[]>();
    for (let s = 0; s < 1500; s += 1) {
      const id = `${s}`.padStart(6, '0') + '"\\'.repeat(125);
      readings.set(
        id,
        Array.from({ length: 40 }, (_, i) => held(i, -1.2345678901234567e-308 * (i + 1))),
      );
    }
    // Act
    const parts = cutParts(readings);
    // Assess
    expect(parts.length).toBeGreaterThan(1);
    let total = 0;
    parts.forEach((page, n) => {
      const item = pageItem({
        key: openKey(PID, -8_640_000_000_000, n, 'zzzzzzzzzzz.zzzzzz'),
        page,
        expiresAtEpochSeconds: 9_999_999_999,
      });
      expect(itemBytes(item)).toBeLessThan(ITEM_LIMIT_BYTES);
      for (const h of page.sensors.values()) total += h.length;
    });
    expect(total).toBe(1500 * 40);
  });

  const runs = lawRuns(200);
  it(`any held readings and root state come back as written (${runs} cases)`, () => {
    const readingArb = fc.record({
      value: fc.double({ noNaN: true, noDefaultInfinity: true }),
      eventTimeMs: fc.integer({ min: -8_640_000_000_000, max: 8_640_000_000_000 }),
      offset: fc.integer({ min: 0, max: 2 ** 53 - 1 }),
      seq: fc.integer({ min: 0, max: 2 ** 40 }),
      index: fc.integer({ min: 0, max: 63 }),
    });
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 20 }),
          fc.array(readingArb, { minLength: 1, maxLength: 5 }),
          { minKeys: 1, maxKeys: 5 },
        ),
        fc.option(fc.integer({ min: -1e12, max: 1e12 }), { nil: null }),
        (bySensor, floor) => {
          const sensors = new Map<string, HeldReading[]>();
          for (const [id, list] of Object.entries(bySensor))
            sensors.set(
              id,
              list.map((r) => ({
                value: r.value,
                eventTimeMs: r.eventTimeMs,
                source: { topic: 'sensor-data', partition: 3, offset: r.offset },
                seq: r.seq,
                ...(r.index === 0 ? {} : { index: r.index }),
              })),
            );
          const page: OpenPage = { kind: 'open', sensors };
          const w = {
            key: openKey('s#sensor-data#3', 5000, 0, '1.abc'),
            page,
            expiresAtEpochSeconds: 1,
          };
          expect(readPageItem(pageItem(w)).page).toEqual(page);
          const root: PartitionRoot = {
            version: 3,
            commitId: 'abc',
            epoch: 0,
            decidedThroughOffset: 10,
            maxTimestampMs: 5,
            gaps: [],
            sources: {},
            pages: { sensors: 0, dict: [], state: [], buckets: [], bucketIndex: [] },
            outbox: [],
            openWindows: {
              watermarkMs: 25_000,
              seq: 7,
              closing: {
                floorMs: floor ?? Number.NEGATIVE_INFINITY,
                endMs: 20_000,
                sensorId: 'b"\\',
                seq: 4,
              },
              movedAtMs: 1,
              buckets: [{ startMs: 5000, expiresAtEpochSeconds: 9, parts: ['1.abc', '2.def'] }],
              queued: [
                {
                  sensorId: 'x',
                  value: 1.5,
                  eventTimeMs: 26_000,
                  source: { topic: 'sensor-data', partition: 3, offset: 11 },
                  index: 2,
                },
              ],
            },
          };
          expect(readRootItem(rootItem('s#sensor-data#3', root)).root.openWindows).toEqual(
            root.openWindows,
          );
        },
      ),
      lawParameters(runs),
    );
  });
});
