import { describe, expect, it } from 'vitest';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import { EWMA_DEFAULTS } from '../../functions/core/detectors.ts';
import type { Evaluation } from '../../functions/ports.ts';
import { createBatchProcessor, type DetectionSettings } from '../../functions/process-batch.ts';
import { toRawRecord } from '../helpers/kafka-events.ts';
import { PipelineProbe } from '../helpers/pipeline-probe.ts';

const T0 = Date.parse('2026-11-21T10:00:00Z');
const EWMA = { kind: 'ewma', ...EWMA_DEFAULTS, warmupReadings: 5 } as const;
const SETTINGS: DetectionSettings = {
  slideMs: 5000,
  windowMs: 10_000,
  defaultDetector: EWMA,
  rules: [{ match: 'fixed_*', detector: { kind: 'threshold', threshold: 50 } }],
  alertCooldownMs: 60_000,
  retentionMarginSeconds: 3600,
};

function readings(sensorId: string, values: readonly number[], firstOffset = 0, partition = 0) {
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

/** Also records every evaluation, as the backtest does. */
class EvaluationProbe extends PipelineProbe {
  readonly evaluations: Evaluation[] = [];
  evaluated(evaluation: Evaluation): void {
    this.evaluations.push(evaluation);
  }
}

function setup() {
  const store = new MemoryWindowStore();
  const probe = new EvaluationProbe();
  const process = createBatchProcessor(SETTINGS, {
    store,
    publisher: probe.publisher(),
    observer: probe,
    nowMs: () => T0 + 3_600_000,
  });
  return { store, probe, evaluations: probe.evaluations, process };
}

describe('process batch with the ewma detector', () => {
  it('keeps the learned state in the sensor item, written once per batch per learning sensor', async () => {
    // Prepare
    const { store, process } = setup();
    const batch = [
      ...readings('boiler_1', [10, 11, 10, 12, 11, 10, 11]),
      ...readings('fixed_1', [50, 51], 0, 1),
    ];
    // Act
    await process(batch);
    // Assess: one state page write (the partition's, holding boiler_1); the threshold sensor
    // has no anomaly, so no entry
    expect(store.requests.stateWrites).toBe(1);
    expect(store.sensorStates().get('boiler_1')).toMatchObject({
      learned: { kind: 'ewma', state: { count: 7 } },
    });
    expect(store.sensorStates().has('fixed_1')).toBe(false);
  });

  it('judges a reading against what was learned before it, across batches', async () => {
    // Prepare
    const { probe, process } = setup();
    const steady = [10, 11, 10, 12, 11, 10, 11, 10, 12, 11];
    // Act: the steady readings in two batches, then a spike
    await process(readings('boiler_1', steady.slice(0, 4)));
    await process(readings('boiler_1', steady.slice(4), 4));
    await process(readings('boiler_1', [40], 10));
    // Assess
    expect(
      probe.anomalies.map((d) => [
        d.anomaly.alertId,
        d.anomaly.detector,
        d.anomaly.count,
        d.anomaly.sigma,
      ]),
    ).toEqual([['sensor-data-0-10', 'ewma', 10, EWMA.sigma]]);
    expect(probe.anomalies[0]?.anomaly.mean).toBeCloseTo(10.8, 0);
  });

  it('tells an observer about every judged reading once, not about redelivered ones', async () => {
    // Prepare
    const { evaluations, process } = setup();
    const batch = [
      ...readings('boiler_1', [10, 11, 12]),
      toRawRecord({ offset: 3, timestampMs: T0, value: 'bad' }),
    ];
    // Act
    await process(batch);
    await process(batch);
    // Assess
    expect(
      evaluations.map((e) => [
        e.reading.source.offset,
        e.detector.kind,
        e.window.count,
        e.verdict.count,
      ]),
    ).toEqual([
      [0, 'ewma', 1, 0],
      [1, 'ewma', 2, 1],
      [2, 'ewma', 3, 2],
    ]);
  });
});
