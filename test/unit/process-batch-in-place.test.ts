import { describe, expect, it } from 'vitest';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import {
  ADAPTIVE_DEFAULTS,
  EWMA_DEFAULTS,
  type LearnedState,
  learningStep,
} from '../../functions/core/detectors.ts';
import type { Evaluation } from '../../functions/ports.ts';
import { createBatchProcessor, type DetectionSettings } from '../../functions/process-batch.ts';
import { toRawRecord } from '../helpers/kafka-events.ts';
import { PipelineProbe } from '../helpers/pipeline-probe.ts';

/**
 * The handler steps each sensor's learned state in place within a batch. What the store and
 * the container's cache handed out must stay as it was, and every evaluation an observer is
 * told of must keep its own verdict.
 */

const T0 = Date.parse('2026-11-21T10:00:00Z');
const ADAPTIVE = { kind: 'adaptive', ...ADAPTIVE_DEFAULTS, warmupReadings: 5 } as const;
const EWMA = { kind: 'ewma', ...EWMA_DEFAULTS, warmupReadings: 5 } as const;
const SETTINGS: DetectionSettings = {
  slideMs: 5000,
  windowMs: 10_000,
  defaultDetector: ADAPTIVE,
  rules: [
    { match: 'ewma_*', detector: EWMA },
    { match: 'fixed_*', detector: { kind: 'threshold', threshold: 50 } },
  ],
  alertCooldownMs: 60_000,
  retentionMarginSeconds: 3600,
};

function readings(sensorId: string, values: readonly number[], firstOffset: number, partition = 0) {
  return values.map((v, i) =>
    toRawRecord({
      partition,
      offset: firstOffset + i,
      timestampMs: T0 + (firstOffset + i) * 1000,
      key: sensorId,
      value: `${sensorId},${v}`,
    }),
  );
}

class EvaluationProbe extends PipelineProbe {
  readonly evaluations: Evaluation[] = [];
  evaluated(evaluation: Evaluation): void {
    this.evaluations.push(evaluation);
  }
}

const wave = (n: number, at: number) => Array.from({ length: n }, (_, i) => 20 + Math.sin(at + i));

describe('process batch: learned state stepped in place', () => {
  it('never changes a state item the store handed out, in a cold or a warm container', async () => {
    // Prepare
    const store = new MemoryWindowStore();
    const probe = new EvaluationProbe();
    const container = () =>
      createBatchProcessor(SETTINGS, {
        store,
        publisher: probe.publisher(),
        observer: probe,
        nowMs: () => T0 + 3_600_000,
      });
    await container()([
      ...readings('pump_1', wave(12, 0), 0),
      ...readings('ewma_1', wave(12, 1), 0, 1),
    ]);
    const json = (x: unknown) => JSON.stringify(x, (_, v) => (v instanceof Map ? [...v] : v));
    const handedOut = [...store.pages.values()];
    const before = json(handedOut);

    // Act: a cold container reads those items and learns on, spikes included; then, warm
    // (its cache holds what it wrote), once more.
    const cold = container();
    await cold([
      ...readings('pump_1', [...wave(8, 12), 500, ...wave(4, 30)], 12),
      ...readings('ewma_1', [...wave(8, 13), -400, ...wave(4, 31)], 12, 1),
    ]);
    const second = [...store.pages.values()];
    const afterSecond = json(second);
    await cold([...readings('pump_1', wave(6, 40), 25), ...readings('ewma_1', wave(6, 41), 25, 1)]);

    // Assert
    expect(json(handedOut)).toBe(before);
    expect(json(second)).toBe(afterSecond);
    expect(afterSecond).not.toBe(before);
    expect(probe.anomalies.map((a) => a.anomaly.sensorId).sort()).toEqual(['ewma_1', 'pump_1']);
  });

  it('tells each evaluation its own verdict, the one the pure step gives', async () => {
    // Prepare
    const store = new MemoryWindowStore();
    const probe = new EvaluationProbe();
    const process = createBatchProcessor(SETTINGS, {
      store,
      publisher: probe.publisher(),
      observer: probe,
      nowMs: () => T0 + 3_600_000,
    });
    const values = [...wave(15, 0), 90, ...wave(5, 20)];

    // Act
    await process(readings('pump_1', values, 0));

    // Assert
    let state: LearnedState | undefined;
    const expected = values.map((v) => {
      const step = learningStep(ADAPTIVE, state, v);
      state = step.state;
      return { ...step.verdict };
    });
    const verdicts = probe.evaluations.map((e) => e.verdict);
    expect(new Set(verdicts).size).toBe(values.length);
    expect(verdicts.map((v) => ({ ...v }))).toEqual(expected);
    expect(probe.evaluations.every((e) => e.window.count > 0)).toBe(true);
  });
});
