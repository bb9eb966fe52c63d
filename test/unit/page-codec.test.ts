import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePage, encodePage } from '../../functions/adapters/dynamodb/codecs.ts';
import type { Page } from '../../functions/batch/state.ts';
import { lawParameters } from '../helpers/fc-params.ts';

// Every page kind read back as written: the memory store keeps pages as objects, so only this
// law (and the laws on dynalite) reach the encodings. An index page once came back as a state
// page, and a cold container then judged without the buckets it listed.
const gen = fc.stringMatching(/^[0-9a-z]{1,8}\.[0-9a-z]{6}$/);
const bucketRefs = fc.record({
  startMs: fc.integer({ min: 0, max: 2 ** 45 }).map((n) => n * 1000),
  expiresAtEpochSeconds: fc.integer({ min: 0, max: 2 ** 33 }),
  chunks: fc.array(fc.option(gen, { nil: null }), { minLength: 1, maxLength: 8 }),
});
const pageArb: fc.Arbitrary<Page> = fc.oneof(
  fc.record({
    kind: fc.constant('index' as const),
    buckets: fc.array(bucketRefs, { maxLength: 6 }),
  }),
  fc.record({
    kind: fc.constant('dict' as const),
    ids: fc.array(
      fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/[\n\r]/.test(s)),
      {
        minLength: 1,
        maxLength: 20,
      },
    ),
  }),
);

describe('page encodings', () => {
  it('read back every index and dictionary page as written', () => {
    fc.assert(
      fc.property(pageArb, (page) => {
        expect(decodePage(page.kind, encodePage(page))).toEqual(page);
      }),
      lawParameters(300),
    );
  });
});
