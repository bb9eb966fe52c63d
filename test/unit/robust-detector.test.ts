import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectorSpecSchema, parseRulesFile } from '../../functions/config.ts';
import { evaluate, learningStep, type Verdict } from '../../functions/core/detectors.ts';
import { evidenceScore, robustStep } from '../../functions/core/robust.ts';
import {
  ROBUST_DEFAULTS,
  type RobustDetector,
  type RobustState,
} from '../../functions/core/robust-state.ts';
import { mulberry32 } from '../../local/simulator/readings.ts';
import { lawParameters, lawRuns } from '../helpers/fc-params.ts';

const ROBUST: RobustDetector = { kind: 'robust', ...ROBUST_DEFAULTS };

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function noise(n: number, seed: number, level = 10, sd = 1): number[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => level + sd * gaussian(random));
}

function run(spec: RobustDetector, values: readonly number[]) {
  let state: RobustState | undefined;
  const verdicts: Verdict[] = [];
  for (const v of values) {
    const step = robustStep(spec, state, v);
    state = step.state;
    verdicts.push(step.judgement);
  }
  return { verdicts, state: state as RobustState };
}

const alerts = (verdicts: readonly Verdict[], from = 0) =>
  verdicts.flatMap((v, i) => (i >= from && v.anomaly ? [{ i, test: v.test }] : []));

describe('robust detector: the faults it catches, once each', () => {
  it('stays quiet on 5,000 readings of Gaussian noise at any scale', () => {
    for (const scale of [1e-3, 1, 1e4]) {
      const { verdicts } = run(
        ROBUST,
        noise(5000, 7).map((v) => v * scale),
      );
      expect(alerts(verdicts)).toEqual([]);
    }
  });

  it('a spike and a dip: one alert each, named, with the expected band around the level', () => {
    const values = noise(2000, 1);
    values[800] = 22;
    values[1500] = -2;
    const { verdicts } = run(ROBUST, values);
    expect(alerts(verdicts)).toEqual([
      { i: 800, test: 'spike' },
      { i: 1500, test: 'dip' },
    ]);
    const spike = verdicts[800] as Verdict;
    expect(spike.expected).toBeCloseTo(10, 0);
    expect(spike.expectedLow).toBeLessThan(10);
    expect(spike.expectedHigh).toBeGreaterThan(10);
    expect(spike.expectedHigh).toBeLessThan(22);
  });

  it('a level shift: one alert at its start, not one per reading after it', () => {
    const values = noise(3000, 2).map((v, i) => (i >= 1500 ? v + 8 : v));
    const found = alerts(run(ROBUST, values).verdicts);
    expect(found).toHaveLength(1);
    expect(found[0]?.i).toBeGreaterThanOrEqual(1500);
    expect(found[0]?.i).toBeLessThan(1510);
  });

  it('a level shift and its return to the old level: one alert, the recovery is not another', () => {
    const values = noise(4000, 15).map((v, i) => (i >= 1500 && i < 2500 ? v + 8 : v));
    const found = alerts(run(ROBUST, values).verdicts);
    expect(found).toHaveLength(1);
    expect(found[0]?.i).toBeGreaterThanOrEqual(1500);
    expect(found[0]?.i).toBeLessThan(1510);
  });

  it('a slow drift of 80 σ over 3,600 readings (no single reading stands out): caught early, as a drift', () => {
    const values = noise(6000, 3).map((v, i) => (i >= 2000 ? v + (80 / 3600) * (i - 2000) : v));
    const found = alerts(run(ROBUST, values).verdicts);
    expect(found.length).toBeGreaterThanOrEqual(1);
    expect(found[0]?.test).toBe('drift');
    // Within 5 minutes at 1 Hz, when the ramp has moved about 7 σ.
    expect(found[0]?.i).toBeGreaterThan(2000);
    expect(found[0]?.i).toBeLessThan(2300);
  });

  it('a sensor that freezes at its last value (no jump at all): a flat line', () => {
    const values = noise(2000, 4);
    for (let i = 1201; i < 2000; i += 1) values[i] = values[1200] as number;
    const found = alerts(run(ROBUST, values).verdicts);
    expect(found).toEqual([{ i: expect.any(Number), test: 'flat line' }]);
    expect(found[0]?.i).toBeLessThan(1201 + 20);
  });

  it('a sensor that always repeats values (quantised) is not a flat line', () => {
    const random = mulberry32(5);
    const values = Array.from({ length: 4000 }, () => (random() < 0.02 ? 20.1 : 20));
    expect(alerts(run(ROBUST, values).verdicts)).toEqual([]);
  });

  it('the noise grows sixfold: an alert (variance or spike) within a few readings', () => {
    const values = noise(3000, 6).map((v, i) => (i >= 2000 && i < 2200 ? 10 + 6 * (v - 10) : v));
    const found = alerts(run(ROBUST, values).verdicts);
    expect(found.length).toBeGreaterThanOrEqual(1);
    expect(found[0]?.i).toBeGreaterThanOrEqual(2000);
    expect(found[0]?.i).toBeLessThan(2030);
  });

  it('bursts that are normal for the sensor stop alerting once learned (its own tail)', () => {
    const random = mulberry32(8);
    const values = noise(20_000, 9);
    for (let i = 50; i < values.length; i += 40 + Math.floor(160 * random())) {
      const height = 3 + 7 * random();
      for (let j = i; j < Math.min(values.length, i + 3); j += 1)
        values[j] = (values[j] as number) + height;
    }
    const late = alerts(run(ROBUST, values).verdicts, 10_000);
    expect(late.length).toBeLessThanOrEqual(2);
  });
});

describe('robust detector: rule controls', () => {
  it('absolute limits alert from the first reading, named limit, once per episode', () => {
    const spec = { ...ROBUST, limits: { high: 6, low: 1 } };
    const values = [3, 3.1, 7, 7.2, 7.1, ...noise(100, 10, 3, 0.1), 0.5];
    const { verdicts } = run(spec, values);
    expect(alerts(verdicts)).toEqual([
      { i: 2, test: 'limit' },
      { i: values.length - 1, test: 'limit' },
    ]);
    expect(verdicts[3]?.score).toBeGreaterThan(0);
  });

  it('direction up ignores dips; down ignores spikes', () => {
    const values = noise(2000, 11);
    values[800] = 22;
    values[1500] = -2;
    expect(alerts(run({ ...ROBUST, direction: 'up' }, values).verdicts)).toEqual([
      { i: 800, test: 'spike' },
    ]);
    expect(alerts(run({ ...ROBUST, direction: 'down' }, values).verdicts)).toEqual([
      { i: 1500, test: 'dip' },
    ]);
  });

  it('a minimum deviation in units keeps small departures quiet', () => {
    const values = noise(2000, 12);
    values[800] = 18;
    expect(alerts(run(ROBUST, values).verdicts)).toHaveLength(1);
    expect(alerts(run({ ...ROBUST, minDeviation: 10 }, values).verdicts)).toEqual([]);
  });

  it('M of N persistence: a lone spike does not alert, three of five do', () => {
    const spec = { ...ROBUST, persistenceReadings: 3, persistenceWindow: 5 };
    const values = noise(2000, 13);
    values[800] = 22;
    expect(alerts(run(spec, values).verdicts)).toEqual([]);
    values[1500] = 22;
    values[1502] = 23;
    values[1503] = 22;
    expect(alerts(run(spec, values).verdicts)).toEqual([{ i: 1503, test: 'spike' }]);
  });

  it('limits on any rule: a guard beside a window detector, from the rules file', () => {
    const file = parseRulesFile(
      JSON.stringify({
        rules: [
          { match: 'p_*', detector: { kind: 'threshold', threshold: 1000 }, limits: { high: 6 } },
        ],
      }),
      'test',
    );
    const spec = file.rules[0]?.detector;
    expect(spec).toEqual({ kind: 'threshold', threshold: 1000, limits: { high: 6 } });
    const window = { count: 2, sum: 12.5, sumSq: 78.25 };
    const over = evaluate(spec as never, window, 6.5);
    expect(over).toMatchObject({ anomaly: true, test: 'limit' });
    expect(evaluate(spec as never, window, 5.9).anomaly).toBe(false);
  });

  it('the limits detector on its own, and its errors in one line', () => {
    const spec = detectorSpecSchema.parse({ kind: 'limits', high: 6, low: 1 });
    const empty = { count: 0, sum: 0, sumSq: 0 };
    expect(evaluate(spec, empty, 7)).toMatchObject({ anomaly: true, test: 'limit', expected: 6 });
    expect(evaluate(spec, empty, 0)).toMatchObject({ anomaly: true, test: 'limit', expected: 1 });
    expect(evaluate(spec, empty, 3).anomaly).toBe(false);
    expect(() =>
      parseRulesFile('{"default":{"kind":"limits","high":1,"low":6}}', 'f.json'),
    ).toThrow('f.json: default: low must not be above high');
    expect(() => parseRulesFile('{"default":{"kind":"limits"}}', 'f.json')).toThrow(
      'give high, low or both',
    );
  });
});

describe('robust detector: the score', () => {
  it('0.5 at a limit, strictly increasing in the evidence, never 1', () => {
    expect(evidenceScore(0)).toBe(0);
    expect(evidenceScore(1)).toBe(0.5);
    let last = 0;
    for (const e of [1e-9, 0.1, 1, 2, 10, 1e3, 1e9, 1e16, 1e100, 1e300, Number.MAX_VALUE]) {
      const s = evidenceScore(e);
      expect(s).toBeGreaterThan(last);
      expect(s).toBeLessThan(1);
      last = s;
    }
  });

  it('a reading a million σ out scores below 1 and above one a thousand σ out', () => {
    const base = noise(500, 14);
    const far = run(ROBUST, [...base, 1e6]).verdicts.at(-1) as Verdict;
    const near = run(ROBUST, [...base, 1e3]).verdicts.at(-1) as Verdict;
    expect(far.score).toBeLessThan(1);
    expect(far.score).toBeGreaterThan(near.score);
  });
});

const streamArb = fc
  .record({
    n: fc.integer({ min: 1, max: 400 }),
    seed: fc.integer(),
    shiftAt: fc.integer({ min: 0, max: 400 }),
    shift: fc.double({ min: -50, max: 50, noNaN: true }),
    flatFrom: fc.integer({ min: 0, max: 800 }),
  })
  .map(({ n, seed, shiftAt, shift, flatFrom }) =>
    noise(n, seed).map((v, i) => (i >= flatFrom ? 3 : i >= shiftAt ? v + shift : v)),
  );

describe('robust detector: laws', () => {
  it(`scale: multiplying a stream by a power of two gives the same verdicts, bit for bit (${lawRuns(100)} streams)`, () => {
    fc.assert(
      fc.property(streamArb, fc.integer({ min: -30, max: 30 }), (values, k) => {
        const a = run(ROBUST, values).verdicts;
        const b = run(
          ROBUST,
          values.map((v) => v * 2 ** k),
        ).verdicts;
        a.forEach((v, i) => {
          const w = b[i] as Verdict;
          expect(w.anomaly).toBe(v.anomaly);
          expect(w.score).toBe(v.score);
          expect(w.test).toBe(v.test);
        });
      }),
      lawParameters(100),
    );
  });

  it(`replay: a stream cut anywhere, its state stored as JSON between, gives the same verdicts and state (${lawRuns(100)} streams)`, () => {
    fc.assert(
      fc.property(streamArb, fc.array(fc.nat(), { maxLength: 5 }), (values, cuts) => {
        const whole = run(ROBUST, values);
        let state: RobustState | undefined;
        const verdicts: Verdict[] = [];
        const at = new Set(cuts.map((c) => c % (values.length + 1)));
        values.forEach((v, i) => {
          if (at.has(i) && state !== undefined) state = JSON.parse(JSON.stringify(state));
          const step = learningStep(ROBUST, state, v);
          state = step.state as RobustState;
          verdicts.push(step.verdict);
        });
        expect(verdicts).toEqual(whole.verdicts);
        expect(state).toEqual(whole.state);
      }),
      lawParameters(100),
    );
  });

  it(`determinism and size: the same stream twice gives the same bits; the state stays under 1 KB (${lawRuns(100)} streams)`, () => {
    fc.assert(
      fc.property(streamArb, (values) => {
        const a = run(ROBUST, values);
        const b = run(ROBUST, values);
        expect(b).toEqual(a);
        expect(Buffer.byteLength(JSON.stringify(a.state))).toBeLessThanOrEqual(1024);
        for (const x of Object.values(a.state)) expect(Number.isFinite(x)).toBe(true);
      }),
      lawParameters(100),
    );
  });
});
