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
  /** Sensors that send nothing for a while (docs/silence.md): seconds after the start. */
  readonly stops?: readonly {
    readonly sensorId: string;
    readonly fromSeconds: number;
    readonly toSeconds: number;
  }[];
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
  let skipped = 0;
  let spikes = 0;
  let stopping = false;
  let wake: (() => void) | null = null;
  const startedMs = Date.now();

  const loop = async () => {
    while (!stopping) {
      // Catch up to the rate from the start, so slow sends do not lower the average rate.
      const behind =
        Math.floor(((Date.now() - startedMs) / 1000) * options.ratePerSecond) - produced - skipped;
      // …but never more than a few seconds' worth at once after a long stall.
      const due = Math.min(behind, Math.ceil(options.ratePerSecond * 5));
      if (due > 0) {
        const elapsedS = (Date.now() - startedMs) / 1000;
        // A stopped sensor's turns in the round robin pass without a reading.
        const readings = Array.from({ length: due }, next).filter(
          (r) =>
            !(options.stops ?? []).some(
              (s) =>
                s.sensorId === r.sensorId && s.fromSeconds <= elapsedS && elapsedS < s.toSeconds,
            ),
        );
        skipped += due - readings.length;
        if (readings.length > 0) await options.send(readings);
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
