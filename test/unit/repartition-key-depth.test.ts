import { describe, expect, it } from 'vitest';
import { compileGroups } from '../../functions/core/alerting/groups.ts';
import { REPARTITION_ENV, repartitionSettingsFromEnv } from '../../functions/repartition/config.ts';
import { keyedRecord, keyPrefix } from '../../functions/repartition/repartition-batch.ts';
import { toRawRecord } from '../helpers/kafka-events.ts';

/**
 * The repartition step keyed by alert group (docs/alerting-groups.md): every sensor of a
 * group gets the group's key, so the group's alerts meet in one partition.
 */
describe('repartition keyed by group', () => {
  const table: Array<[number, string, string]> = [
    [2, 'site-a/line-1/pump-3/temp', 'site-a/line-1'],
    [1, 'site-a/line-1/pump-3/temp', 'site-a'],
    [2, 'site-a', 'site-a'],
    [4, 'a/b', 'a/b'],
  ];
  for (const [depth, id, key] of table) {
    it(`depth ${depth}: ${id} → ${key}`, () => expect(keyPrefix(depth)(id)).toBe(key));
  }

  it('is the key a group rule of the same depth names', () => {
    const groupOf = compileGroups([{ match: '*', depth: 2, threshold: 5 }]);
    for (const id of ['s/l/p1', 's/l/p2/x', 'other/l/p9'])
      expect(keyPrefix(2)(id)).toBe(groupOf(id)?.key);
  });

  it('keys a reading by its group, a record that is not a reading by its own key', () => {
    const reading = toRawRecord({
      offset: 1,
      timestampMs: 1,
      key: 'k',
      value: 'site-a/line-1/p7,4.5',
    });
    const junk = toRawRecord({ offset: 2, timestampMs: 1, key: 'k', value: 'not a reading' });
    expect(keyedRecord(reading, keyPrefix(2)).record.key).toBe('site-a/line-1');
    expect(keyedRecord(reading).record.key).toBe('site-a/line-1/p7');
    expect(new TextDecoder().decode(keyedRecord(junk, keyPrefix(2)).record.key as Uint8Array)).toBe(
      'k',
    );
  });

  it(`reads ${REPARTITION_ENV.keyDepth}, and says what is wrong in one line`, () => {
    const env = { [REPARTITION_ENV.brokers]: 'b-1:9092' };
    expect(repartitionSettingsFromEnv(env).keyDepth).toBeUndefined();
    expect(repartitionSettingsFromEnv({ ...env, [REPARTITION_ENV.keyDepth]: '2' }).keyDepth).toBe(
      2,
    );
    for (const bad of ['0', '1.5', 'two', '33'])
      expect(() => repartitionSettingsFromEnv({ ...env, [REPARTITION_ENV.keyDepth]: bad })).toThrow(
        `${REPARTITION_ENV.keyDepth}: must be a whole number from 1 to 32 (got "${bad}")`,
      );
  });
});
