import {
  createReadingGenerator,
  type ReadingGeneratorOptions,
  type SimulatedReading,
} from './readings.ts';

export interface SimulatorOptions extends ReadingGeneratorOptions {
  /** Readings per second, over all sensors. */
  readonly ratePerSecond: number;
  /** Receives each tick's readings; a slow sink slows the simulator rather than queueing. */
  readonly send: (readings: readonly SimulatedReading[]) => Promise<void>;
  /** Tick length. @default 100 */
  readonly tickMs?: number;
}

export interface RunningSimulator {
  readonly produced: () => number;
  readonly spikes: () => number;
  /** Stops after the tick in progress; resolves when the last send has finished. */
  stop(): Promise<void>;
  /** Rejects if a send fails. */
  readonly finished: Promise<void>;
}

/** Sends readings at a steady rate, in ticks, until stopped. */
export function startSimulator(options: SimulatorOptions): RunningSimulator {
  const next = createReadingGenerator(options);
  const tickMs = options.tickMs ?? 100;
  let produced = 0;
  let spikes = 0;
  let stopping = false;
  let wake: (() => void) | null = null;
  const startedMs = Date.now();

  const loop = async () => {
    while (!stopping) {
      // Catch up to the rate from the start, so slow sends do not lower the average rate.
      const behind =
        Math.floor(((Date.now() - startedMs) / 1000) * options.ratePerSecond) - produced;
      // …but never more than a few seconds' worth at once after a long stall.
      const due = Math.min(behind, Math.ceil(options.ratePerSecond * 5));
      if (due > 0) {
        const readings = Array.from({ length: due }, next);
        await options.send(readings);
        produced += readings.length;
        spikes += readings.filter((r) => r.spike).length;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, tickMs);
      });
    }
  };
  const finished = loop();
  finished.catch(() => {});

  return {
    produced: () => produced,
    spikes: () => spikes,
    async stop() {
      stopping = true;
      wake?.();
      await finished;
    },
    finished,
  };
}
