import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, ENV } from '../../functions/config.ts';
import { ADAPTIVE_DEFAULTS } from '../../functions/core/adaptive.ts';
import { DETECTOR_SETTINGS } from '../../functions/core/detector-settings.ts';
import { ROBUST_DEFAULTS } from '../../functions/core/robust-state.ts';
import { CONTEXT_KEYS } from '../../infra/config.ts';
import { detectorFromFlags } from '../../local/flags/detector-flags.ts';
import {
  detectorFunction,
  invokeBundleWithEmptyBatch,
  type Synthesized,
  synthesize,
} from './synth.ts';

/**
 * The adaptive detector's settings reach the deployed function from CDK context as they reach
 * `npm start` and `npm run backtest` from their flags: one key, one variable and one flag per
 * parameter, with the same name in camelCase (docs/detectors.md).
 */

const CONTEXT = {
  detector: 'adaptive',
  adaptiveScoreThreshold: '0.8',
  adaptiveRefractoryReadings: '120',
  adaptiveHalfLifeReadings: '250',
  adaptiveMinDeviation: '0.05',
};

let adaptive: Synthesized;
beforeAll(() => {
  adaptive = synthesize(CONTEXT);
});

function functionVariables(synth: Synthesized): Record<string, string> {
  const fn = detectorFunction(synth.template);
  const variables = fn?.Properties.Environment.Variables as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(variables).map(([k, v]) => [k, typeof v === 'string' ? v : `placeholder-${k}`]),
  );
}

describe('adaptive detector settings from CDK context', () => {
  it('sets each adaptive context key as its environment variable', () => {
    adaptive.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.detector]: 'adaptive',
          [ENV.adaptiveScoreThreshold]: '0.8',
          [ENV.adaptiveRefractoryReadings]: '120',
          [ENV.adaptiveHalfLifeReadings]: '250',
          [ENV.adaptiveMinDeviation]: '0.05',
          // Keys not given keep the detector's defaults.
          [ENV.adaptiveSigma]: String(ADAPTIVE_DEFAULTS.sigma),
          [ENV.adaptiveWarmupReadings]: String(ADAPTIVE_DEFAULTS.warmupReadings),
        }),
      },
    });
  });

  it('gives the function the detector the same flags give npm start and the backtest', () => {
    const deployed = configFromEnv(functionVariables(adaptive)).defaultDetector;
    const flags = {
      detector: 'adaptive',
      adaptiveScoreThreshold: '0.8',
      adaptiveRefractoryReadings: '120',
      adaptiveHalfLifeReadings: '250',
      adaptiveMinDeviation: '0.05',
    };
    expect(deployed).toEqual(detectorFromFlags(flags));
    expect(deployed).toMatchObject({ kind: 'adaptive', scoreThreshold: 0.8, minDeviation: 0.05 });
  });

  it('has a context key for every adaptive variable and flag, of the same name', () => {
    const variables = Object.keys(ENV).filter((k) => k.startsWith('adaptive'));
    const keys = CONTEXT_KEYS.filter((k) => k.startsWith('adaptive'));
    const parameters = Object.keys(ADAPTIVE_DEFAULTS).map(
      (p) => `adaptive${p.charAt(0).toUpperCase()}${p.slice(1)}`,
    );
    expect([...keys].sort()).toEqual([...parameters].sort());
    expect([...variables].sort()).toEqual([...parameters].sort());
  });

  it('ships a bundle whose cold-start validation accepts those settings', async () => {
    expect(await invokeBundleWithEmptyBatch(adaptive)).toMatchObject({ records: 0 });
  });
});

/**
 * The robust detector's keys derive from the one list of detector parameters: a key per
 * parameter, passed as its variable only when `detector` is `robust`.
 */
describe('robust detector settings from CDK context', () => {
  const ROBUST_CONTEXT = {
    detector: 'robust',
    robustSigma: '6',
    robustDirection: 'up',
    robustPersistenceReadings: '2',
    robustPersistenceWindow: '3',
  };
  let robust: Synthesized;
  beforeAll(() => {
    robust = synthesize(ROBUST_CONTEXT);
  });

  it('sets each robust context key as its environment variable, the others at their defaults', () => {
    robust.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.detector]: 'robust',
          [ENV.robustSigma]: '6',
          [ENV.robustDirection]: 'up',
          [ENV.robustPersistenceReadings]: '2',
          [ENV.robustPersistenceWindow]: '3',
          [ENV.robustScoreThreshold]: String(ROBUST_DEFAULTS.scoreThreshold),
        }),
      },
    });
  });

  it('gives the function the detector the same flags give npm start and the backtest', () => {
    const deployed = configFromEnv(functionVariables(robust)).defaultDetector;
    expect(deployed).toEqual(detectorFromFlags(ROBUST_CONTEXT));
    expect(deployed).toMatchObject({ kind: 'robust', sigma: 6, direction: 'up' });
  });

  it('leaves the robust variables out of a function that does not use it', () => {
    const fn = detectorFunction(adaptive.template);
    const names = Object.keys(fn?.Properties.Environment.Variables as object);
    expect(names.filter((n) => n.startsWith('ROBUST_'))).toEqual([]);
  });

  it('has a context key for every robust parameter in the list, of the same name', () => {
    const keys = CONTEXT_KEYS.filter((k) => k.startsWith('robust'));
    const listed = DETECTOR_SETTINGS.filter((s) => s.kind === 'robust').map((s) => s.key);
    expect([...keys].sort()).toEqual([...listed].sort());
  });
});
