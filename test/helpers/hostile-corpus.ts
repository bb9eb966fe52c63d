import { readFileSync } from 'node:fs';
import type { MSKEvent, MSKRecord } from 'aws-lambda';

/** One entry of test/fixtures/hostile/records.json (its `about` field explains the format). */
export interface HostileCase {
  readonly name: string;
  readonly why: string;
  readonly value:
    | { readonly text: string }
    | { readonly base64: string }
    | { readonly null: true }
    | { readonly eventValue: string }
    | {
        readonly repeat: {
          readonly prefix: string;
          readonly unit: string;
          readonly times: number;
          readonly suffix?: string;
        };
      };
  readonly key?: { readonly text: string } | { readonly base64: string };
  /** A rejection reason code, or 'accepted'. */
  readonly expect: string;
  readonly sensorId?: string;
  readonly spike?: boolean;
  readonly recordTimestampMs?: number;
}

export const HOSTILE_T0 = Date.parse('2026-11-21T10:00:00Z');

export function loadHostileCorpus(): HostileCase[] {
  const url = new URL('../fixtures/hostile/records.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { cases: HostileCase[] }).cases;
}

function expand(text: string): string {
  return text.replace(/\{\{T0([+-]\d+)?\}\}/g, (_, delta: string | undefined) =>
    String(HOSTILE_T0 + Number(delta ?? 0)),
  );
}

/** The value field of the Lambda event for a case: base64, or the raw text of `eventValue`. */
export function eventValue(c: HostileCase): string {
  const v = c.value;
  if ('eventValue' in v) return v.eventValue;
  if ('null' in v) return '';
  if ('base64' in v) return v.base64;
  if ('repeat' in v) {
    const { prefix, unit, times, suffix = '' } = v.repeat;
    return Buffer.from(expand(prefix) + unit.repeat(times) + expand(suffix)).toString('base64');
  }
  return Buffer.from(expand(v.text)).toString('base64');
}

function eventKey(c: HostileCase): string | undefined {
  if (c.key === undefined) return undefined;
  return 'base64' in c.key ? c.key.base64 : Buffer.from(c.key.text).toString('base64');
}

export interface PlannedRecord {
  readonly offset: number;
  readonly role: 'good' | 'warm-up' | 'case';
  readonly caseIndex?: number;
  readonly record: MSKRecord;
}

/**
 * Lambda records for cases, each between good readings (and after its warm-up, for a spike):
 * `good_<n>,42`, [warm-up `{"sensorId": id, "value": 0}`], the case.
 */
export function planRecords(
  cases: readonly { readonly c: HostileCase; readonly index: number }[],
  options: { readonly topic: string; readonly partition: number },
): PlannedRecord[] {
  const planned: PlannedRecord[] = [];
  const push = (
    role: PlannedRecord['role'],
    value: string,
    timestampMs: number,
    key?: string,
    caseIndex?: number,
  ) => {
    const offset = planned.length;
    planned.push({
      offset,
      role,
      ...(caseIndex === undefined ? {} : { caseIndex }),
      record: {
        topic: options.topic,
        partition: options.partition,
        offset,
        timestamp: timestampMs,
        timestampType: 'CREATE_TIME',
        ...(key === undefined ? {} : { key }),
        value,
        headers: [],
      } as MSKRecord,
    });
  };
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  for (const { c, index } of cases) {
    const timestampMs = c.recordTimestampMs ?? HOSTILE_T0;
    push('good', b64(`good_${index},42`), HOSTILE_T0);
    if (c.spike === true && c.sensorId !== undefined) {
      push(
        'warm-up',
        b64(JSON.stringify({ sensorId: c.sensorId, value: 0 })),
        timestampMs,
        eventKey(c),
        index,
      );
    }
    push('case', eventValue(c), timestampMs, eventKey(c), index);
  }
  push('good', b64('good_last,42'), HOSTILE_T0);
  return planned;
}

export function eventOf(planned: readonly PlannedRecord[]): MSKEvent {
  const grouped: MSKEvent['records'] = {};
  for (const { record } of planned) {
    const group = `${record.topic}-${record.partition}`;
    grouped[group] ??= [];
    grouped[group].push(record);
  }
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/test/abc',
    bootstrapServers: 'b-1.test.kafka.us-east-1.amazonaws.com:9098',
    records: grouped,
  };
}
