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
    meaning: 'read lines from F; - for standard input (interactive on a terminal)',
    defaultText: 'standard input',
  },
  {
    flag: 'format',
    arg: 'F',
    meaning: 'csv (sensor_1,57.3[,timestamp]) | json ({"sensorId":…,"value":…})',
    defaultText: 'csv',
  },
  {
    flag: 'no-key',
    meaning:
      "unkeyed records (by default the key is the reading's sensor id: one partition, in order, per sensor)",
  },
];

/** As kcat's: -b brokers, -t topic. */
export const PRODUCE_SHORT_OPTIONS = { b: 'brokers', t: 'topic' } as const;
