import { mulberry32 } from '../simulator/readings.ts';
import type { Experiment } from './labelled-data.ts';

/**
 * A seeded corpus of labelled one-sensor series of many shapes, scales, sampling intervals and
 * lengths, for judging detectors on data this project generates (never on a public benchmark):
 * spikes, dips, level shifts, spread changes, a broken daily pattern, a stuck sensor, drift,
 * counts, flat and zero-centred sensors, and series with nothing to find. Each event is labelled
 * on the single row where it starts; NAB's windows are centred there.
 */
export interface GeneratedOptions {
  readonly seed: number;
  /** Copies of each shape, with fresh parameters. @default 2 */
  readonly copies?: number;
}

type Shape = (ctx: ShapeContext) => void;

interface ShapeContext {
  readonly n: number;
  readonly random: () => number;
  readonly values: number[];
  readonly labels: Uint8Array;
  /** A row for an event: after the probationary 15 %, away from the others. */
  eventRow(): number;
}

const INTERVALS_MS = [1000, 10_000, 60_000, 300_000, 3_600_000];
const SCALES = [0.001, 1, 50, 10_000];

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Student-t with 3 degrees of freedom: heavy tails, variance 3. */
function studentT3(random: () => number): number {
  const z = gaussian(random);
  let chi = 0;
  for (let k = 0; k < 3; k += 1) chi += gaussian(random) ** 2;
  return z / Math.sqrt(chi / 3);
}

const between = (random: () => number, lo: number, hi: number) => lo + (hi - lo) * random();

function noisy(ctx: ShapeContext, level: number, sd: number): void {
  for (let i = 0; i < ctx.n; i += 1) ctx.values.push(level + sd * gaussian(ctx.random));
}

const SHAPES = {
  spikes(ctx) {
    noisy(ctx, 10, 1);
    for (let k = 0; k < 2; k += 1) {
      const at = ctx.eventRow();
      ctx.values[at] =
        (ctx.values[at] as number) + (ctx.random() < 0.5 ? -1 : 1) * between(ctx.random, 6, 12);
    }
  },
  levelShift(ctx) {
    noisy(ctx, 10, 1);
    const at = ctx.eventRow();
    const by = (ctx.random() < 0.5 ? -1 : 1) * between(ctx.random, 4, 10);
    for (let i = at; i < ctx.n; i += 1) ctx.values[i] = (ctx.values[i] as number) + by;
  },
  spreadChange(ctx) {
    noisy(ctx, 10, 1);
    const at = ctx.eventRow();
    const len = Math.floor(ctx.n * 0.05);
    for (let i = at; i < Math.min(ctx.n, at + len); i += 1) {
      ctx.values[i] = 10 + 6 * gaussian(ctx.random);
    }
  },
  daily(ctx) {
    const period = Math.floor(between(ctx.random, 100, 300));
    for (let i = 0; i < ctx.n; i += 1) {
      ctx.values.push(10 + 5 * Math.sin((2 * Math.PI * i) / period) + 0.4 * gaussian(ctx.random));
    }
    const at = ctx.eventRow();
    // The pattern breaks: a peak where a trough should be, then back to normal.
    for (let i = at; i < Math.min(ctx.n, at + period / 4); i += 1) {
      ctx.values[i] = (ctx.values[i] as number) + 9;
    }
  },
  stuck(ctx) {
    const period = 150;
    for (let i = 0; i < ctx.n; i += 1) {
      ctx.values.push(10 + 3 * Math.sin((2 * Math.PI * i) / period) + 0.3 * gaussian(ctx.random));
    }
    // A sensor that dies: drops to zero and stays there.
    const at = ctx.eventRow();
    for (let i = at; i < ctx.n; i += 1) ctx.values[i] = 0;
  },
  drift(ctx) {
    let level = 10;
    for (let i = 0; i < ctx.n; i += 1) {
      level += 0.002 * gaussian(ctx.random);
      ctx.values.push(level + 0.5 * gaussian(ctx.random));
    }
    const at = ctx.eventRow();
    ctx.values[at] = (ctx.values[at] as number) + 8;
  },
  counts(ctx) {
    for (let i = 0; i < ctx.n; i += 1) {
      let k = 0;
      const lambda = 3;
      let p = Math.exp(-lambda);
      let f = p;
      const u = ctx.random();
      while (u > f && k < 50) {
        k += 1;
        p *= lambda / k;
        f += p;
      }
      ctx.values.push(k);
    }
    const at = ctx.eventRow();
    for (let i = at; i < Math.min(ctx.n, at + 5); i += 1)
      ctx.values[i] = 20 + Math.floor(5 * ctx.random());
  },
  flatStep(ctx) {
    for (let i = 0; i < ctx.n; i += 1) ctx.values.push(ctx.random() < 0.02 ? 20.1 : 20);
    const at = ctx.eventRow();
    for (let i = at; i < ctx.n; i += 1) ctx.values[i] = 21;
  },
  zeroCentred(ctx) {
    noisy(ctx, 0, 1);
    const at = ctx.eventRow();
    ctx.values[at] = -9;
  },
  rampUp(ctx) {
    noisy(ctx, 10, 1);
    const at = ctx.eventRow();
    const len = Math.floor(ctx.n * 0.05);
    for (let i = at; i < ctx.n; i += 1) {
      ctx.values[i] = (ctx.values[i] as number) + (8 * Math.min(i - at, len)) / len;
    }
  },
  heavyTail(ctx) {
    // Student-t noise with 3 degrees of freedom: large readings are normal here.
    for (let i = 0; i < ctx.n; i += 1) ctx.values.push(10 + studentT3(ctx.random));
    const at = ctx.eventRow();
    for (let i = at; i < ctx.n; i += 1) ctx.values[i] = (ctx.values[i] as number) + 12;
  },
  bursty(ctx) {
    // A busy server: short bursts of load are normal; the anomaly is a sustained overload.
    noisy(ctx, 10, 1);
    for (let i = 50; i < ctx.n; i += Math.floor(between(ctx.random, 80, 300))) {
      const height = between(ctx.random, 3, 8);
      for (let j = i; j < Math.min(ctx.n, i + 4); j += 1)
        ctx.values[j] = (ctx.values[j] as number) + height;
    }
    const at = ctx.eventRow();
    const len = Math.floor(ctx.n * 0.04);
    for (let i = at; i < Math.min(ctx.n, at + len); i += 1)
      ctx.values[i] = 24 + gaussian(ctx.random);
  },
  missedCycle(ctx) {
    // A daily pattern that stops for a cycle (a holiday, a stopped line), within the normal range.
    const period = Math.floor(between(ctx.random, 100, 300));
    for (let i = 0; i < ctx.n; i += 1) {
      ctx.values.push(10 + 5 * Math.sin((2 * Math.PI * i) / period) + 0.3 * gaussian(ctx.random));
    }
    const at = ctx.eventRow();
    for (let i = at; i < Math.min(ctx.n, at + period); i += 1)
      ctx.values[i] = 10 + 0.3 * gaussian(ctx.random);
  },
  spikeInRange(ctx) {
    // A spike at a trough of the daily pattern, to a level that is normal at its peaks.
    const period = 200;
    for (let i = 0; i < ctx.n; i += 1) {
      ctx.values.push(10 + 5 * Math.sin((2 * Math.PI * i) / period) + 0.3 * gaussian(ctx.random));
    }
    let at = ctx.eventRow();
    // Move to the nearest trough (sin = −1 at i = 3/4 period).
    ctx.labels[at] = 0;
    at = Math.min(ctx.n - 1, at - (at % period) + Math.floor((3 * period) / 4));
    ctx.labels[at] = 1;
    for (let i = at; i < Math.min(ctx.n, at + 3); i += 1) ctx.values[i] = 14.5;
  },
  quietNoise(ctx) {
    noisy(ctx, 10, 1);
  },
  quietDaily(ctx) {
    for (let i = 0; i < ctx.n; i += 1) {
      ctx.values.push(10 + 5 * Math.sin((2 * Math.PI * i) / 200) + 0.4 * gaussian(ctx.random));
    }
  },
  quietFlat(ctx) {
    for (let i = 0; i < ctx.n; i += 1) ctx.values.push(0);
  },
  dips(ctx) {
    noisy(ctx, 10, 1);
    for (let k = 0; k < 2; k += 1) {
      const at = ctx.eventRow();
      ctx.values[at] = (ctx.values[at] as number) - between(ctx.random, 6, 12);
    }
  },
  slowDrift(ctx) {
    // A pressure creeping up: 80 σ over 3600 readings (an hour at 1 Hz), never a jump.
    noisy(ctx, 10, 1);
    const at = ctx.eventRow();
    const perReading = (ctx.random() < 0.5 ? -1 : 1) * (80 / 3600);
    for (let i = at; i < ctx.n; i += 1) {
      ctx.values[i] = (ctx.values[i] as number) + perReading * (i - at);
    }
  },
  flatLine(ctx) {
    // A sensor that freezes at its last reading: no jump at all, only the noise stops.
    noisy(ctx, 10, 1);
    const at = ctx.eventRow();
    for (let i = at + 1; i < ctx.n; i += 1) ctx.values[i] = ctx.values[at] as number;
  },
  burstyQuiet(ctx) {
    // Normal bursts of load and nothing else: every alert here is a false alarm.
    noisy(ctx, 10, 1);
    for (let i = 50; i < ctx.n; i += Math.floor(between(ctx.random, 30, 200))) {
      const height = between(ctx.random, 3, 10);
      const len = 1 + Math.floor(6 * ctx.random());
      for (let j = i; j < Math.min(ctx.n, i + len); j += 1)
        ctx.values[j] = (ctx.values[j] as number) + height;
    }
  },
} satisfies Record<string, Shape>;

export const GENERATED_SHAPES = Object.keys(SHAPES);

/** The fault family each shape stands for (the evaluator's per-family table). */
export const GENERATED_FAMILIES = [
  'spike',
  'dip',
  'level shift',
  'drift',
  'variance',
  'flat line',
  'seasonal',
  'bursty-but-normal',
  'nothing to find',
] as const;
export type GeneratedFamily = (typeof GENERATED_FAMILIES)[number];

const FAMILY_OF: Record<keyof typeof SHAPES, GeneratedFamily> = {
  spikes: 'spike',
  levelShift: 'level shift',
  spreadChange: 'variance',
  daily: 'seasonal',
  stuck: 'flat line',
  drift: 'spike',
  counts: 'spike',
  flatStep: 'level shift',
  zeroCentred: 'dip',
  rampUp: 'drift',
  heavyTail: 'level shift',
  bursty: 'bursty-but-normal',
  missedCycle: 'seasonal',
  spikeInRange: 'seasonal',
  quietNoise: 'nothing to find',
  quietDaily: 'nothing to find',
  quietFlat: 'nothing to find',
  dips: 'dip',
  slowDrift: 'drift',
  flatLine: 'flat line',
  burstyQuiet: 'bursty-but-normal',
};

/** A generated experiment's family, from its name (`<shape>-<copy>`); undefined for others. */
export function generatedFamily(experimentName: string): GeneratedFamily | undefined {
  const shape = experimentName.replace(/-\d+$/, '');
  return Object.hasOwn(FAMILY_OF, shape) ? FAMILY_OF[shape as keyof typeof SHAPES] : undefined;
}

/** The scale a generated experiment was drawn at (the group of the per-scale table). */

/** The generated corpus: every shape `copies` times, each at a random scale, rate and length. */
export function generatedCorpus(options: GeneratedOptions): Experiment[] {
  const random = mulberry32(options.seed);
  const copies = options.copies ?? 2;
  const experiments: Experiment[] = [];
  for (const [shapeName, shape] of Object.entries(SHAPES) as [string, Shape][]) {
    for (let c = 0; c < copies; c += 1) {
      const n = Math.floor(between(random, 1000, 8000));
      const intervalMs = INTERVALS_MS[Math.floor(random() * INTERVALS_MS.length)] as number;
      const scale = SCALES[Math.floor(random() * SCALES.length)] as number;
      const offset =
        shapeName === 'zeroCentred' || shapeName === 'quietFlat' ? 0 : scale * 5 * random();
      const labels = new Uint8Array(n);
      const values: number[] = [];
      const taken: number[] = [];
      const ctx: ShapeContext = {
        n,
        random,
        values,
        labels,
        eventRow() {
          for (;;) {
            const row = Math.floor(between(random, 0.2 * n, 0.9 * n));
            if (taken.every((t) => Math.abs(t - row) > 0.1 * n)) {
              taken.push(row);
              labels[row] = 1;
              return row;
            }
          }
        },
      };
      shape(ctx);
      const keepsScale = shapeName === 'counts' || shapeName === 'flatStep';
      const every =
        intervalMs >= 3_600_000
          ? `${intervalMs / 3_600_000} h`
          : intervalMs >= 60_000
            ? `${intervalMs / 60_000} min`
            : `${intervalMs / 1000} s`;
      const startMs = Date.parse('2026-01-01T00:00:00Z');
      experiments.push({
        name: `${shapeName}-${c + 1}`,
        timestampsMs: values.map((_, i) => startMs + i * intervalMs),
        sensors: [
          {
            name: 'value',
            values: keepsScale ? values : values.map((v) => offset + scale * v),
          },
        ],
        labels,
        group: `scale ${keepsScale ? 1 : scale}, every ${every}`,
      });
    }
  }
  return experiments;
}
