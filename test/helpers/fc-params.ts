import type fc from 'fast-check';

/**
 * fast-check parameters for the reliability laws. fast-check prints the seed and path of a
 * failing run; replay it with `FC_SEED=<seed> FC_PATH=<path> npx vitest run <file>`.
 * `FC_RUNS_FACTOR` scales every law's case count: 0.5 unless set (a developer's `npm test` on
 * two cores stays within its few minutes), 2 in CI (`.ci/run`: four times as many cases), 10
 * or more for a long hunt. A law's nominal count (the argument) is what the factor scales.
 */
const DEFAULT_RUNS_FACTOR = 0.5;

export function lawParameters<T>(numRuns: number): fc.Parameters<T> {
  const seed = process.env.FC_SEED;
  const path = process.env.FC_PATH;
  const factor = Number(process.env.FC_RUNS_FACTOR ?? DEFAULT_RUNS_FACTOR);
  const scaled = Number.isFinite(factor) && factor > 0 ? Math.round(numRuns * factor) : numRuns;
  return {
    numRuns: Math.max(1, scaled),
    ...(seed === undefined || seed === '' ? {} : { seed: Number(seed) }),
    ...(path === undefined || path === '' ? {} : { path }),
  };
}

/** The case count a law will run, for its test name. */
export function lawRuns(numRuns: number): number {
  return lawParameters(numRuns).numRuns ?? numRuns;
}
