/**
 * Anomaly likelihood: turns a detector's raw, scale-dependent anomaly measure into a score in
 * [0, 1] that means the same for every sensor, after Numenta's anomaly likelihood (Ahmad et
 * al. 2017, "Unsupervised real-time anomaly detection for streaming data"): the tail
 * probability of the recent short-term mean of the raw scores under the distribution of the
 * raw scores over the long term.
 *
 * Numenta keeps the last 8640 raw scores; here the long-term distribution is an exponentially
 * weighted mean and variance and the short-term mean an exponentially weighted mean, so the
 * state is three numbers and one count. Pure: the same prior state and raw score give the same
 * bits.
 */

export interface LikelihoodState {
  readonly count: number;
  /** Long-term mean and variance of the raw scores. */
  readonly mean: number;
  readonly variance: number;
  /** Short-term mean of the raw scores, the reading's own included. */
  readonly recent: number;
}

export const LIKELIHOOD_INITIAL: LikelihoodState = { count: 0, mean: 0, variance: 0, recent: 0 };

export interface LikelihoodParams {
  /** Half-life, in readings, of the long-term distribution. */
  readonly longHalfLifeReadings: number;
  /** Half-life, in readings, of the short-term mean (Numenta averages the last 10). */
  readonly shortHalfLifeReadings: number;
  /** The variance is never taken below this (Numenta: 0.0003 for raw scores in [0, 1]). */
  readonly minVariance: number;
}

export const LIKELIHOOD_DEFAULTS: LikelihoodParams = {
  longHalfLifeReadings: 2000,
  shortHalfLifeReadings: 1,
  minVariance: 0.0003,
};

/**
 * The upper tail Q(z) = P(Z > z) of the standard normal, to about 1e-7 relative accuracy over
 * the whole range (Numerical Recipes' erfc by Chebyshev fit), with no underflow to NaN.
 */
export function normalTail(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/**
 * Learns `raw` and returns the likelihood that the recent raw scores are unusually high:
 * 1 − Q((recent − mean) / σ), with mean and σ from before this reading (the reading does not
 * vouch for itself). 0.5 when recent equals the long-term mean; near 1 far above it.
 */
export function likelihoodStep(
  params: LikelihoodParams,
  state: LikelihoodState,
  raw: number,
): { state: LikelihoodState; likelihood: number } {
  return likelihoodStepWith(
    1 - 2 ** (-1 / params.longHalfLifeReadings),
    1 - 2 ** (-1 / params.shortHalfLifeReadings),
    params.minVariance,
    state,
    raw,
  );
}

/** likelihoodStep with the two weights 1 − 2^(−1/half-life) computed once by the caller. */
export function likelihoodStepWith(
  longAlpha: number,
  shortAlpha: number,
  minVariance: number,
  state: LikelihoodState,
  raw: number,
): { state: LikelihoodState; likelihood: number } {
  const recent = state.count === 0 ? raw : state.recent + shortAlpha * (raw - state.recent);
  const sd = Math.sqrt(Math.max(state.variance, minVariance));
  const likelihood = state.count === 0 ? 0.5 : 1 - normalTail((recent - state.mean) / sd);
  const alpha = Math.max(longAlpha, 1 / (state.count + 1));
  const d = raw - state.mean;
  const mean = state.mean + alpha * d;
  const variance = (1 - alpha) * (state.variance + alpha * d * d);
  return {
    state: {
      count: state.count + 1,
      mean: flush(mean),
      variance: flush(variance),
      recent: flush(recent),
    },
    likelihood,
  };
}

/** A likelihood state a batch owns and steps in place. */
export interface WorkingLikelihood {
  count: number;
  mean: number;
  variance: number;
  recent: number;
}

/**
 * likelihoodStepWith on a state the caller owns: learns `raw` into `s` and returns the
 * likelihood. The same operations in the same order, so the same bits; no allocation.
 */
export function likelihoodStepInPlace(
  longAlpha: number,
  shortAlpha: number,
  minVariance: number,
  s: WorkingLikelihood,
  raw: number,
): number {
  const recent = s.count === 0 ? raw : s.recent + shortAlpha * (raw - s.recent);
  const sd = Math.sqrt(Math.max(s.variance, minVariance));
  const likelihood = s.count === 0 ? 0.5 : 1 - normalTail((recent - s.mean) / sd);
  const alpha = Math.max(longAlpha, 1 / (s.count + 1));
  const d = raw - s.mean;
  const mean = s.mean + alpha * d;
  const variance = (1 - alpha) * (s.variance + alpha * d * d);
  s.count += 1;
  s.mean = flush(mean);
  s.variance = flush(variance);
  s.recent = flush(recent);
  return likelihood;
}

/**
 * Numenta's log scale for likelihoods: log(1.0000000001 − L) / log(1 − 0.9999999999), so that
 * 0.99 → 0.2, 0.99999 → 0.5, 0.9999999999 → 1: it spreads out the interesting top end.
 */
export function logLikelihood(likelihood: number): number {
  return Math.log(1.0000000001 - likelihood) / -23.02585084720009;
}

function flush(x: number): number {
  return Math.abs(x) < 1e-125 ? 0 : x;
}
