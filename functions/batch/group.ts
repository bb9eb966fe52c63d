import type { FieldMapping } from '../core/readings/field-mapping.ts';
import {
  type ParseRecordOptions,
  parseRecord,
  type RecordParse,
} from '../core/readings/parse-record.ts';
import type { RawRecord } from '../core/types.ts';
import { type PartitionKey, partitionId } from '../ports.ts';

export interface PartitionGroup {
  readonly key: PartitionKey;
  /** `[<stream>#]<topic>#<partition>`: the id of the partition's root and pages. */
  readonly pid: string;
  readonly records: readonly RawRecord[];
  /** Each record's readings (several for a gateway's record), or why it holds none. */
  readonly parsed: readonly RecordParse[];
}

/**
 * Records per partition (one payload may carry several), each in offset order, parsed; a
 * repeated offset within one payload counts once. Partitions in id order.
 */
/** How a batch reads its records: a registry decoder, and field mappings per topic. */
export interface BatchParse extends ParseRecordOptions {
  /** A topic's own mapping, before `fields` (the rules' `topicReadingFields`). */
  readonly fieldsByTopic?: Readonly<Record<string, FieldMapping>>;
}

export function groupByPartition(
  records: readonly RawRecord[],
  stream: string,
  parse: BatchParse = {},
): PartitionGroup[] {
  const byId = new Map<string, { key: PartitionKey; records: RawRecord[] }>();
  // An event lists each partition's records together: look the group up only when it changes.
  let group: { key: PartitionKey; records: RawRecord[] } | undefined;
  for (const record of records) {
    if (group?.key.topic !== record.topic || group.key.partition !== record.partition) {
      const key = { topic: record.topic, partition: record.partition };
      const id = partitionId(key, stream);
      group = byId.get(id);
      if (group === undefined) {
        group = { key, records: [] };
        byId.set(id, group);
      }
    }
    group.records.push(record);
  }
  const sorted = [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted.map(([pid, g]) => {
    let list = g.records;
    // Lambda delivers a partition in offset order: sort and de-duplicate only when it is not.
    if (!strictlyIncreasing(list)) {
      list.sort((a, b) => a.offset - b.offset);
      list = list.filter((r, i, all) => i === 0 || all[i - 1]?.offset !== r.offset);
    }
    const fields = parse.fieldsByTopic?.[g.key.topic] ?? parse.fields;
    const options: ParseRecordOptions = {
      ...(parse.decoder === undefined ? {} : { decoder: parse.decoder }),
      ...(fields === undefined ? {} : { fields }),
    };
    return { key: g.key, pid, records: list, parsed: list.map((r) => parseRecord(r, options)) };
  });
}

function strictlyIncreasing(records: readonly RawRecord[]): boolean {
  for (let i = 1; i < records.length; i += 1) {
    if ((records[i - 1] as RawRecord).offset >= (records[i] as RawRecord).offset) return false;
  }
  return true;
}

/** The sensors of each partition's valid readings, for the silence recorder. */
export function heardFrom(groups: readonly PartitionGroup[]) {
  return groups.map((g) => ({
    pid: g.pid,
    topic: g.key.topic,
    sensorIds: g.parsed.flatMap((p) => (p.ok ? p.readings.map((r) => r.sensorId) : [])),
  }));
}
