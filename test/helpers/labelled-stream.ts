/**
 * Labelled plant streams for judging detectors: sensors of very different scales, level
 * shifts, slow drift and flat quantised signals, with isolated spikes injected as the only
 * true anomalies. Seeded, so every run and every machine sees the same readings.
 */

import { mulberry32 } from '../../local/simulator/readings.ts';

export const SENSOR_PROFILES = {
  /** The Flink job's world: level 50, noise σ 5, spikes of 80–150 units. */
  flinkLike: { level: 50, noise: 5, spike: [80, 150], resolution: 0.1 },
  /** Level 200, σ 3, the level jumps by 40–120 every 600–1200 readings; spikes 12–25 σ. */
  levelShifts: {
    level: 200,
    noise: 3,
    spike: [36, 75],
    resolution: 0.01,
    shiftEvery: [600, 1200],
    shiftBy: [40, 120],
  },
  /** Level 100 drifting by +0.05 per reading (+150 over 3000), σ 2; spikes 10–25 σ. */
  slowDrift: { level: 100, noise: 2, spike: [20, 50], resolution: 0.01, driftPerReading: 0.05 },
  /** A 0.01-scale sensor: level 0.05, σ 0.0005; spikes 10–25 σ. */
  tinyScale: { level: 0.05, noise: 0.0005, spike: [0.005, 0.0125], resolution: 0.00001 },
  /** A 10,000-scale sensor: level 10,000, σ 100; spikes 10–25 σ. */
  hugeScale: { level: 10_000, noise: 100, spike: [1000, 2500], resolution: 1 },
  /** Flat at 20.0, reported to 0.1, noise σ 0.03 (mostly the same value); spikes 2–5 units. */
  flat: { level: 20, noise: 0.03, spike: [2, 5], resolution: 0.1 },
  /** Centred on 0 (a differential pressure), σ 1; spikes 10–25 σ. */
  zeroCentred: { level: 0, noise: 1, spike: [10, 25], resolution: 0.001 },
} as const;

export type SensorProfileName = keyof typeof SENSOR_PROFILES;

export interface LabelledReading {
  readonly sensorId: string;
  readonly profile: SensorProfileName;
  readonly value: number;
  readonly timestampMs: number;
  /** True for an injected spike: the only readings that should be flagged. */
  readonly spike: boolean;
  /** One of the first 10 readings after a level shift (flagging them is arguable). */
  readonly afterShift: boolean;
}

export interface PlantStreamOptions {
  readonly seed: number;
  readonly readingsPerSensor: number;
  /** Sensors per profile. @default 1 */
  readonly sensorsPerProfile?: number;
  readonly profiles?: readonly SensorProfileName[];
  readonly startMs?: number;
  /** Each sensor reports once per interval, the sensors offset within it. @default 1000 */
  readonly intervalMs?: number;
  /** Chance per reading of a spike (spikes are kept ≥ 20 readings apart). @default 0.004 */
  readonly spikeRate?: number;
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Readings of every sensor, interleaved in event-time order. */
export function plantStream(options: PlantStreamOptions): LabelledReading[] {
  const random = mulberry32(options.seed);
  const profiles = options.profiles ?? (Object.keys(SENSOR_PROFILES) as SensorProfileName[]);
  const perProfile = options.sensorsPerProfile ?? 1;
  const startMs = options.startMs ?? Date.parse('2026-11-21T00:00:00Z');
  const intervalMs = options.intervalMs ?? 1000;
  const spikeRate = options.spikeRate ?? 0.004;
  const sensors: LabelledReading[][] = [];
  let sensorIndex = 0;
  for (const name of profiles) {
    for (let k = 1; k <= perProfile; k += 1) {
      const p: (typeof SENSOR_PROFILES)[SensorProfileName] = SENSOR_PROFILES[name];
      const sensorId = `${name}_${k}`;
      const offsetMs = Math.floor((intervalMs * sensorIndex) / (profiles.length * perProfile));
      sensorIndex += 1;
      const readings: LabelledReading[] = [];
      let level: number = p.level;
      let nextShift = 'shiftEvery' in p ? between(random, p.shiftEvery) : Number.POSITIVE_INFINITY;
      let lastSpike = -1000;
      let lastShift = -1000;
      for (let i = 0; i < options.readingsPerSensor; i += 1) {
        if (i >= nextShift && 'shiftBy' in p) {
          level += (random() < 0.5 ? -1 : 1) * between(random, p.shiftBy);
          nextShift = i + between(random, p.shiftEvery);
          lastShift = i;
        }
        if ('driftPerReading' in p) level += p.driftPerReading;
        let value = level + p.noise * gaussian(random);
        const spike = i - lastSpike >= 20 && i - lastShift >= 10 && random() < spikeRate;
        if (spike) {
          value += (random() < 0.5 ? -1 : 1) * between(random, p.spike);
          lastSpike = i;
        }
        readings.push({
          sensorId,
          profile: name,
          value: roundTo(value, p.resolution),
          timestampMs: startMs + i * intervalMs + offsetMs,
          spike,
          afterShift: i - lastShift < 10,
        });
      }
      sensors.push(readings);
    }
  }
  return sensors
    .flat()
    .sort((a, b) => a.timestampMs - b.timestampMs || a.sensorId.localeCompare(b.sensorId));
}

function between(random: () => number, [lo, hi]: readonly [number, number]): number {
  return lo + (hi - lo) * random();
}

/** Rounds to the sensor's resolution, printed without binary noise (0.1 + 0.2 → 0.3). */
function roundTo(value: number, resolution: number): number {
  const decimals = Math.max(0, Math.ceil(-Math.log10(resolution)));
  return Number((Math.round(value / resolution) * resolution).toFixed(decimals));
}

/** The stream as the backtest's CSV input: `sensor_id,value,timestamp` lines with a header. */
export function toCsvLines(readings: readonly LabelledReading[]): string[] {
  return [
    'sensor_id,value,timestamp',
    ...readings.map((r) => `${r.sensorId},${r.value},${r.timestampMs}`),
  ];
}
