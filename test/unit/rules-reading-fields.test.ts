import { describe, expect, it } from 'vitest';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import { ConfigError, DEFAULT_DETECTION, parseRulesFile } from '../../functions/config.ts';
import { createBatchProcessor } from '../../functions/process-batch.ts';
import { toRawRecord } from '../helpers/kafka-events.ts';

const T0 = Date.parse('2026-11-21T10:00:00Z');

describe('field mappings in a rules file', () => {
  it('are read for every topic and per topic', () => {
    const file = parseRulesFile(
      JSON.stringify({
        readingFields: { sensorId: 'tag', value: 'val' },
        topicReadingFields: {
          boilers: { sensorId: 'meta.id', measurements: ['temp', 'pressure'] },
        },
        rules: [],
      }),
      'rules.json',
    );
    expect(file.readingFields).toEqual({
      fields: { sensorId: 'tag', value: 'val' },
      byTopic: { boilers: { sensorId: 'meta.id', measurements: ['temp', 'pressure'] } },
    });
  });

  it.each([
    [{ readingFields: { value: 'a..b' } }, 'readingFields.value'],
    [{ readingFields: { sensor: 'tag' } }, 'readingFields'],
    [{ topicReadingFields: { t: { measurements: [] } } }, 'topicReadingFields.t.measurements'],
  ])('refuse %j with one line naming where', (doc, where) => {
    expect(() => parseRulesFile(JSON.stringify(doc), 'rules.json')).toThrow(ConfigError);
    expect(() => parseRulesFile(JSON.stringify(doc), 'rules.json')).toThrow(where);
  });

  it('make the batch read records of that shape, the topic’s mapping first', async () => {
    // Prepare: a historian gateway on topic "plant" sends {"tag", "val"}; others the default.
    const settings = {
      ...DEFAULT_DETECTION,
      readingFields: {
        fields: { sensorId: 'tag', value: 'val' },
        byTopic: { boilers: { sensorId: 'id', value: 'temp' } },
      },
    };
    const process = createBatchProcessor(settings, {
      store: new MemoryWindowStore(),
      publisher: { publish: async () => {} },
      nowMs: () => T0,
    });
    // Act
    const report = await process([
      toRawRecord({
        topic: 'plant',
        offset: 0,
        timestampMs: T0,
        key: null,
        value: '{"tag":"p1","val":3}',
      }),
      toRawRecord({
        topic: 'boilers',
        offset: 0,
        timestampMs: T0,
        key: null,
        value: '{"id":"b1","temp":90}',
      }),
      toRawRecord({
        topic: 'boilers',
        offset: 1,
        timestampMs: T0,
        key: null,
        value: '{"tag":"b2","val":90}',
      }),
    ]);
    // Assess: the third has no `id`: rejected like any record without a sensor id.
    expect(report.readings).toBe(2);
    expect(Object.values(report.rejectedByReason).reduce((a, b) => a + b, 0)).toBe(1);
  });
});
