import { describe, expect, it } from 'vitest';
import { ConfigError, parseRulesFile } from '../../functions/config.ts';
import { compileRules, type DetectorRule } from '../../functions/core/detector-rules.ts';
import { DEFAULT_DETECTOR } from '../../functions/core/detectors.ts';

const t = (threshold: number) => ({ kind: 'threshold', threshold }) as const;

describe('rules by topic and sensor id: specificity', () => {
  // Several sensor types on several topics, with the same ids on more than one of them.
  const rules: DetectorRule[] = [
    { match: 'sensor_*', detector: t(1) },
    { topic: 'pumps', match: 'sensor_*', detector: t(2) },
    { topic: 'pump*', match: 'sensor_*', detector: t(3) },
    { topic: 'boilers', match: '*', detector: t(4) },
    { match: 'sensor_7', detector: t(5) },
    { topic: 'pumps', match: 'sensor_7', detector: t(6) },
    { topic: 'plant.*', match: 'sensor_1?', detector: t(7) },
  ];
  const resolve = compileRules(DEFAULT_DETECTOR, rules);

  it.each([
    ['topic + id glob beats the same id glob alone', 'sensor_1', 'pumps', t(2)],
    ['an exact topic beats a topic glob with the same id pattern', 'sensor_2', 'pumps', t(2)],
    ['a topic glob beats no topic', 'sensor_2', 'pump-room', t(3)],
    ['no topic rule for this topic: the id rule', 'sensor_2', 'fans', t(1)],
    [
      'a topic rule with a looser id pattern loses to a tighter id rule',
      'sensor_3',
      'boilers',
      t(1),
    ],
    ['the topic rule where no id rule matches', 'valve_3', 'boilers', t(4)],
    ['an exact id beats any glob, on every topic', 'sensor_7', 'boilers', t(5)],
    ['exact id and exact topic beat the exact id alone', 'sensor_7', 'pumps', t(6)],
    ['more literal id characters beat a topic', 'sensor_12', 'plant.north', t(7)],
    ['nothing matches: the default', 'valve_3', 'fans', DEFAULT_DETECTOR],
  ])('%s (%s on %s)', (_why, sensorId, topic, expected) => {
    expect(resolve(sensorId, topic)).toEqual(expected);
  });

  it('applies only the rules without a topic to readings without one (backtest, bare readings)', () => {
    expect(resolve('sensor_1')).toEqual(t(1));
    expect(resolve('sensor_1', '')).toEqual(t(1));
    expect(resolve('valve_3')).toEqual(DEFAULT_DETECTOR);
    // `*` as a topic glob still needs a topic.
    const any = compileRules(DEFAULT_DETECTOR, [{ topic: '*', match: '*', detector: t(9) }]);
    expect(any('x', 'anything')).toEqual(t(9));
    expect(any('x')).toEqual(DEFAULT_DETECTOR);
  });

  it('keeps topics apart in its cache: the same id resolves per topic', () => {
    const r = compileRules(DEFAULT_DETECTOR, rules);
    const seen = ['pumps', 'boilers', 'fans', 'pumps', 'boilers'].map((topic) =>
      r('sensor_3', topic),
    );
    expect(seen).toEqual([t(2), t(1), t(1), t(2), t(1)]);
  });

  it('ties keep file order', () => {
    const r = compileRules(DEFAULT_DETECTOR, [
      { topic: 'a', match: 'x*', detector: t(1) },
      { topic: 'a', match: 'x*', detector: t(2) },
    ]);
    expect(r('x1', 'a')).toEqual(t(1));
  });
});

describe('rules file: the topic field', () => {
  it('reads a rule with a topic, and names a bad one with its path', () => {
    const file = parseRulesFile(
      '{"rules": [{"topic": "pumps", "match": "sensor_*", "detector": {"kind": "threshold", "threshold": 5}}]}',
      'plant.json',
    );
    expect(file.rules).toEqual([{ topic: 'pumps', match: 'sensor_*', detector: t(5) }]);
    expect(() =>
      parseRulesFile('[{"topic": "", "match": "a", "detector": {"kind": "ewma"}}]', 'plant.json'),
    ).toThrow(/plant.json: 0.topic/);
    expect(() =>
      parseRulesFile('[{"topic": 3, "match": "a", "detector": {"kind": "ewma"}}]', 'plant.json'),
    ).toThrow(ConfigError);
  });
});
