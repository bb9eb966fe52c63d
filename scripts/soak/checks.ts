import { round, median as sampleMedian, slope } from '../../bench/lib/stats.ts';

/**
 * The soak's verdicts (scripts/soak.ts describes them): counts reconciled, every notification
 * delivered, and the lag and heap trends over the steady part of the run.
 */

/** One status line of the run, every `--sample-seconds`. */
export interface Sample {
  readonly elapsedSeconds: number;
  readonly produced: number;
  readonly applied: number;
  readonly rejected: number;
  readonly lag: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly servicesRssMiB: number;
  readonly failedInvocations: number;
}

export interface SoakCheck {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
  /** false: the run was too short to judge it (reported, not counted). */
  readonly judged?: boolean;
}

/** What the run counted, at the producer, the pipeline, the table and the SNS endpoint. */
export interface SoakCounts {
  readonly minutes: number;
  readonly rate: number;
  readonly produced: number;
  readonly producedInvalid: number;
  /** The sum of every bucket's count in the table. */
  readonly applied: number;
  readonly rejected: number;
  readonly notifyDecisions: number;
  readonly sns: {
    readonly messages: number;
    readonly distinctAlertIds: number;
    readonly otherMessages: number;
    readonly unparsed: number;
  };
  readonly drained: boolean;
}

/** A run too short for a steady part has no samples to take the median of: 0, not NaN. */
const median = (values: readonly number[]) => (values.length === 0 ? 0 : sampleMedian(values));

/** The checks, and the figures the summary reports beside them. */
export function soakChecks(samples: readonly Sample[], final: Sample, c: SoakCounts) {
  const { minutes, rate, produced, producedInvalid, applied, drained, notifyDecisions } = c;
  const svc = c.sns;
  const warmupSeconds = Math.min(60, minutes * 12);
  const steady = samples.filter((s) => s.elapsedSeconds >= warmupSeconds && s !== final);
  const steadySpanMinutes =
    steady.length > 1
      ? ((steady.at(-1)?.elapsedSeconds ?? 0) - (steady[0]?.elapsedSeconds ?? 0)) / 60
      : 0;
  const lagSlopePerMinute = slope(steady.map((s) => [s.elapsedSeconds / 60, s.lag] as const));
  const lagGrowth = lagSlopePerMinute * steadySpanMinutes;
  const lastLag = steady.at(-1)?.lag ?? 0;
  const heapSlopeMiBPerMinute = slope(
    steady.map((s) => [s.elapsedSeconds / 60, s.heapUsedMiB] as const),
  );
  const third = Math.max(1, Math.floor(steady.length / 3));
  const heapFirstThird = round(median(steady.slice(0, third).map((s) => s.heapUsedMiB)));
  const heapLastThird = round(median(steady.slice(-third).map((s) => s.heapUsedMiB)));
  const producedValid = produced - producedInvalid;
  // Trends need a few minutes after the warm-up; a shorter run reports them unjudged.
  const judged = steadySpanMinutes >= 3;
  const checks: SoakCheck[] = [
    { name: 'drained after the producer stopped', pass: drained, detail: `lag ${final.lag}` },
    {
      name: 'produced = applied + rejected',
      pass: produced === applied + c.rejected,
      detail: `${produced} = ${applied} + ${c.rejected}`,
    },
    {
      name: 'applied (sum of bucket counts) = valid readings produced',
      pass: applied === producedValid,
      detail: `${applied} of ${producedValid}`,
    },
    {
      name: 'rejected = invalid records produced',
      pass: c.rejected === producedInvalid,
      detail: `${c.rejected} of ${producedInvalid}`,
    },
    {
      name: 'every notify decision reached SNS',
      pass: svc.distinctAlertIds === notifyDecisions,
      detail: `${svc.distinctAlertIds} distinct alert ids at SNS, ${notifyDecisions} decided (${svc.messages} messages, ${svc.otherMessages} of them resolved notices or digests)`,
    },
    {
      name: 'every SNS message is one the detector wrote',
      pass: svc.unparsed === 0,
      detail: `${svc.unparsed} of ${svc.messages} not parsed`,
    },
    {
      name: 'lag trend over the steady part ≤ 2 s of readings',
      pass: lagGrowth <= rate * 2,
      judged,
      detail: `${round(lagSlopePerMinute)} records/min × ${round(steadySpanMinutes)} min = ${round(lagGrowth)} (limit ${rate * 2})`,
    },
    {
      name: 'last steady lag ≤ 5 s of readings',
      pass: lastLag <= rate * 5,
      detail: `${lastLag} (limit ${rate * 5})`,
    },
    {
      name: 'heap trend ≤ 1 MiB/min',
      pass: heapSlopeMiBPerMinute <= 1,
      judged,
      detail: `${round(heapSlopeMiBPerMinute, 3)} MiB/min`,
    },
    {
      name: 'heap median, last third − first third ≤ 16 MiB',
      pass: heapLastThird - heapFirstThird <= 16,
      judged,
      detail: `${heapFirstThird} → ${heapLastThird} MiB`,
    },
  ];
  return {
    checks,
    producedValid,
    // As the summary reports them (`<out>.json`).
    lag: {
      warmupSeconds,
      slopePerMinute: round(lagSlopePerMinute),
      growthOverSteadyPart: round(lagGrowth),
      last: lastLag,
    },
    heap: {
      slopeMiBPerMinute: round(heapSlopeMiBPerMinute, 3),
      firstThirdMedianMiB: heapFirstThird,
      lastThirdMedianMiB: heapLastThird,
    },
  };
}
