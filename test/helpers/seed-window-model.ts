import type { Reading } from '../../functions/core/types.ts';

/**
 * An independent model of the seed job's WindowFunction under event-time windows, for the
 * window-close laws: written from the seed's text (docs/parity.md), sharing no code with the
 * detector. It never closes a window early: it keeps every window's list to the end, and only
 * uses the watermark (the latest event time before the reading) to leave a reading out of a
 * window whose end plus the lateness it has passed, as Flink drops a late element. Then every
 * window is judged: avg = sum of its values (left to right, arrival order) / count, and each
 * value with |value − avg| > threshold is one decision.
 */
export interface ModelDecision {
  readonly alertId: string;
  readonly sensorId: string;
  readonly value: number;
  readonly avg: number;
  readonly windowEndMs: number;
  /** Arrival order of the reading in the stream. */
  readonly order: number;
}

export interface ModelResult {
  readonly decisions: ModelDecision[];
  readonly lateReadings: number;
  readonly lateWindowDrops: number;
}

export function seedWindowModel(
  readings: readonly Reading[],
  options: {
    readonly slideMs: number;
    readonly windowMs: number;
    readonly allowedLatenessMs: number;
    readonly threshold: number;
    /** The PyFlink job's Types.FLOAT(): values as 4-byte floats. */
    readonly float32: boolean;
  },
): ModelResult {
  const { slideMs, windowMs, allowedLatenessMs, threshold } = options;
  const windows = new Map<
    string,
    { sensorId: string; endMs: number; items: [Reading, number][] }
  >();
  let watermark = Number.NEGATIVE_INFINITY;
  let lateReadings = 0;
  let lateWindowDrops = 0;
  readings.forEach((r, order) => {
    // Every window [start, start + W) with start a multiple of the slide that holds t.
    const lastStart = Math.floor(r.eventTimeMs / slideMs) * slideMs;
    let kept = 0;
    for (let start = lastStart; start > r.eventTimeMs - windowMs; start -= slideMs) {
      const endMs = start + windowMs;
      if (endMs + allowedLatenessMs <= watermark) {
        lateWindowDrops += 1;
        continue;
      }
      const key = `${r.sensorId}\u0000${endMs}`;
      let w = windows.get(key);
      if (w === undefined) {
        w = { sensorId: r.sensorId, endMs, items: [] };
        windows.set(key, w);
      }
      w.items.push([r, order]);
      kept += 1;
    }
    if (kept === 0) lateReadings += 1;
    watermark = Math.max(watermark, r.eventTimeMs);
  });
  const decisions: ModelDecision[] = [];
  for (const w of windows.values()) {
    const values = w.items.map(([r]) => (options.float32 ? Math.fround(r.value) : r.value));
    let sum = 0;
    for (const v of values) sum += v;
    const avg = sum / values.length;
    w.items.forEach(([r, order], i) => {
      const v = values[i] as number;
      if (Math.abs(v - avg) > threshold) {
        const { topic, partition, offset } = r.source;
        decisions.push({
          alertId: `${topic}-${partition}-${offset}${r.index ? `.${r.index}` : ''}@${w.endMs}`,
          sensorId: r.sensorId,
          value: r.value,
          avg,
          windowEndMs: w.endMs,
          order,
        });
      }
    });
  }
  // The seed's printing order: windows by end (then sensor id), each in arrival order.
  decisions.sort(
    (a, b) =>
      a.windowEndMs - b.windowEndMs ||
      (a.sensorId < b.sensorId ? -1 : a.sensorId > b.sensorId ? 1 : 0) ||
      a.order - b.order,
  );
  return { decisions, lateReadings, lateWindowDrops };
}
