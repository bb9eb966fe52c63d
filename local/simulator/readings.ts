/**
 * Synthetic sensor readings like the Flink job's input: `sensor_1,57.3` lines around a
 * baseline, with occasional spikes such as 150.0 or 180.0.
 */
export interface SimulatedReading {
  readonly sensorId: string;
  readonly value: number;
  readonly spike: boolean;
  /** The CSV line the producer sends: `sensor_1,57.3`. */
  readonly line: string;
}

export interface ReadingGeneratorOptions {
  readonly sensors: number;
  /** Share of readings that are spikes, 0..1. */
  readonly anomalyRate: number;
  /** @default 50 */
  readonly baseline?: number;
  /** Normal readings stay within baseline ± spread. @default 5 */
  readonly spread?: number;
  /** Seed for a reproducible stream. @default random */
  readonly seed?: number;
}

/** Values like the seed's anomalies; a window average near 50 puts them far past 50 units. */
const SPIKES = [150, 180, 165.5, 142.7, -60];

export function createReadingGenerator(options: ReadingGeneratorOptions): () => SimulatedReading {
  const random = mulberry32(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const baseline = options.baseline ?? 50;
  const spread = options.spread ?? 5;
  let next = 0;
  return () => {
    // Round-robin over sensors keeps every sensor's window filled evenly.
    const sensorId = `sensor_${(next % options.sensors) + 1}`;
    next += 1;
    const spike = random() < options.anomalyRate;
    const raw = spike
      ? (SPIKES[Math.floor(random() * SPIKES.length)] as number)
      : baseline + (random() * 2 - 1) * spread;
    const value = Math.round(raw * 10) / 10;
    return { sensorId, value, spike, line: `${sensorId},${value.toFixed(1)}` };
  };
}

/** A small seeded PRNG (mulberry32): same seed, same stream. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
