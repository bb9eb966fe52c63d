import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  configFromEnv,
  ENV,
  parseRules,
  parseRulesFile,
} from '../../functions/config.ts';
import { compileRules } from '../../functions/core/detector-rules.ts';
import { DEFAULT_DETECTOR, EWMA_DEFAULTS } from '../../functions/core/detectors.ts';
import { loadRulesFile, rulesEnvironment } from '../../functions/rules-file.ts';

const EWMA = { kind: 'ewma', ...EWMA_DEFAULTS } as const;
const BASE_ENV = { [ENV.tableName]: 'windows', [ENV.topicArn]: 'arn:aws:sns:us-east-1:1:t' };

describe('rules file: format', () => {
  it.each([
    [
      'a plain array of rules',
      '[{"match": "boiler_*", "detector": {"kind": "threshold", "threshold": 5}}]',
      {
        rules: [{ match: 'boiler_*', detector: { kind: 'threshold', threshold: 5 } }],
      },
    ],
    [
      'an object with a default and rules',
      '{"default": {"kind": "ewma"}, "rules": [{"match": "b?", "detector": {"kind": "ewma", "sigma": 6}}]}',
      {
        defaultDetector: EWMA,
        rules: [{ match: 'b?', detector: { ...EWMA, sigma: 6 } }],
      },
    ],
    [
      'an object with only a default',
      '{"default": {"kind": "zscore"}}',
      {
        defaultDetector: { kind: 'zscore', sigma: 2.5, minCount: 5, minDeviation: 0 },
        rules: [],
      },
    ],
  ])('%s', (_name, json, expected) => {
    expect(parseRulesFile(json, 'test.json')).toEqual(expected);
  });

  it.each([
    ['not JSON', '{', /test.json: not valid JSON/],
    [
      'an unknown detector',
      '[{"match": "a", "detector": {"kind": "magic"}}]',
      /test.json: 0.detector.kind/,
    ],
    [
      'a misspelt parameter',
      '{"default": {"kind": "ewma", "halfLife": 10}}',
      /test.json: default: .*halfLife/,
    ],
    ['an unknown top-level key', '{"rule": []}', /test.json: .*rule/],
    ['an empty match', '[{"match": "", "detector": {"kind": "ewma"}}]', /test.json: 0.match/],
    [
      'a bad parameter value',
      '[{"match": "a", "detector": {"kind": "ewma", "warmupReadings": 0}}]',
      /test.json: 0.detector.warmupReadings/,
    ],
  ])('rejects %s, naming the file and the path', (_name, json, message) => {
    expect(() => parseRulesFile(json, 'test.json')).toThrow(ConfigError);
    expect(() => parseRulesFile(json, 'test.json')).toThrow(message);
  });

  it('parseRules (the array form, used by the CDK app) still rejects the object form', () => {
    expect(() => parseRules('{"rules": []}', 'x')).toThrow(ConfigError);
  });

  it('resolves the most specific rule, with the file default for the rest', () => {
    const file = parseRulesFile(
      JSON.stringify({
        default: { kind: 'ewma' },
        rules: [
          { match: 'line_*', detector: { kind: 'threshold', threshold: 20 } },
          { match: 'line_1_press_07', detector: { kind: 'threshold', threshold: 5 } },
        ],
      }),
      'rules',
    );
    const resolve = compileRules(file.defaultDetector ?? DEFAULT_DETECTOR, file.rules);
    expect(resolve('line_1_press_07')).toEqual({ kind: 'threshold', threshold: 5 });
    expect(resolve('line_2_temp')).toEqual({ kind: 'threshold', threshold: 20 });
    expect(resolve('boiler_1')).toEqual(EWMA);
  });
});

describe('rules file: loading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-'));

  it('reads, validates and minifies the file for DETECTOR_RULES', () => {
    // Prepare
    const path = join(dir, 'rules.json');
    writeFileSync(path, '{\n  "default": { "kind": "ewma" },\n  "rules": []\n}\n');
    // Act
    const file = loadRulesFile(path);
    // Assess
    expect(file.defaultDetector).toEqual(EWMA);
    expect(rulesEnvironment(file)).toEqual({
      DETECTOR_RULES: '{"default":{"kind":"ewma"},"rules":[]}',
    });
  });

  it('names a missing file', () => {
    expect(() => loadRulesFile(join(dir, 'missing.json'))).toThrow(/missing.json.*ENOENT/);
  });
});

describe('config from the environment: ewma and rules', () => {
  it('builds the ewma detector from DETECTOR=ewma and its variables', () => {
    const config = configFromEnv({
      ...BASE_ENV,
      DETECTOR: 'ewma',
      EWMA_SIGMA: '5',
      EWMA_HALF_LIFE_READINGS: '200',
    });
    expect(config.defaultDetector).toEqual({ ...EWMA, sigma: 5, halfLifeReadings: 200 });
  });

  it('keeps threshold 50 as the default detector (the Flink job)', () => {
    expect(configFromEnv(BASE_ENV).defaultDetector).toEqual(DEFAULT_DETECTOR);
  });

  it('takes the default detector from DETECTOR_RULES when it has one, over DETECTOR', () => {
    const config = configFromEnv({
      ...BASE_ENV,
      DETECTOR: 'threshold',
      DETECTOR_RULES:
        '{"default":{"kind":"ewma","sigma":6},"rules":[{"match":"a*","detector":{"kind":"threshold"}}]}',
    });
    expect(config.defaultDetector).toEqual({ ...EWMA, sigma: 6 });
    expect(config.rules).toEqual([{ match: 'a*', detector: { kind: 'threshold', threshold: 50 } }]);
  });

  it.each([
    [{ DETECTOR: 'magic' }, /DETECTOR/],
    [{ DETECTOR: 'ewma', EWMA_WARMUP_READINGS: '0' }, /EWMA_WARMUP_READINGS/],
    [{ DETECTOR_RULES: '{"default":{"kind":"ewma","sigma":0}}' }, /DETECTOR_RULES: default.sigma/],
  ])('names the bad variable: %o', (env, message) => {
    expect(() => configFromEnv({ ...BASE_ENV, ...env })).toThrow(message);
  });
});
