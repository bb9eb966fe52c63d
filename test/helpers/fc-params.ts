import type fc from 'fast-check';

/**
 * fast-check parameters for the reliability laws. fast-check prints the seed and path of a
 * failing run; replay it with `FC_SEED=<seed> FC_PATH=<path> npx vitest run <file>`.
 * `FC_RUNS_FACTOR` scales every law's case count (e.g. 10 for a long hunt).
 */
export function lawParameters<T>(numRuns: number): fc.Parameters<T> {
  const seed = process.env.FC_SEED;
  const path = process.env.FC_PATH;
  const factor = Number(process.env.FC_RUNS_FACTOR ?? '1');
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
