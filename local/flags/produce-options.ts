import type { OptionDoc } from './parse-flags.ts';

/** Every option of `npm run produce` (docs/configuration.md is generated from these). */
export const PRODUCE_OPTION_DOCS: readonly OptionDoc[] = [
  {
    flag: 'brokers',
    arg: 'LIST',
    meaning: 'bootstrap brokers',
    defaultText: 'KAFKA_BROKERS, else localhost:9092',
  },
  { flag: 'topic', arg: 'NAME', meaning: 'topic', defaultText: 'sensor-data' },
  {
    flag: 'file',
    arg: 'F',
    meaning: 'read F, gzip or not; - for standard input (interactive on a terminal)',
    defaultText: 'standard input',
  },
  {
    flag: 'format',
    arg: 'F',
    meaning:
      'auto | csv | seed | jsonl | series | wide, as npm run backtest reads them (docs/input-formats.md); json = jsonl',
    defaultText: 'auto',
  },
  { flag: 'time-column', arg: 'NAME', meaning: 'the column of times (found by name by default)' },
  { flag: 'sensor-column', arg: 'NAME', meaning: 'the column of sensor ids' },
  { flag: 'value-column', arg: 'NAME', meaning: 'the column of values' },
  { flag: 'sensor-id', arg: 'ID', meaning: 'the sensor of a one-sensor series (time,value)' },
  {
    flag: 'time-unit',
    arg: 'U',
    meaning: 'auto | s | ms | us | ns: numeric timestamps (auto: by magnitude)',
    defaultText: 'auto',
  },
  {
    flag: 'no-key',
    meaning:
      "unkeyed records (by default the key is the reading's sensor id: one partition, in order, per sensor)",
  },
];

/** As kcat's: -b brokers, -t topic. */
export const PRODUCE_SHORT_OPTIONS = { b: 'brokers', t: 'topic' } as const;
