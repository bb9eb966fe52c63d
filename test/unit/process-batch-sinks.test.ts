import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryWindowStore } from '../../functions/adapters/memory-window-store.ts';
import type { AlertDecision } from '../../functions/core/types.ts';
import type { AnomalySink } from '../../functions/ports.ts';
import { createBatchProcessor } from '../../functions/process-batch.ts';
import { lawParameters } from '../helpers/fc-params.ts';
import { cutAt } from '../helpers/kafka-events.ts';
import { runReferenceModel } from '../helpers/reference-model.ts';
import { cutsArb, detectionArb, STREAM_NOW_MS, streamArb } from '../helpers/stream-gen.ts';

/** A sink that records what it accepted and fails the calls whose index is in `failing`. */
class RecordingSink implements AnomalySink {
  readonly name = 'recording';
  readonly accepted: AlertDecision[] = [];
  calls = 0;
  failures = 0;
  constructor(
    private readonly failing: ReadonlySet<number>,
    /** A failed call that still landed its alerts (a lost response). */
    private readonly landedWhenFailing: boolean,
  ) {}
  async deliver(alerts: readonly AlertDecision[]): Promise<void> {
    const call = this.calls++;
    if (this.failing.has(call)) {
      this.failures += 1;
      if (this.landedWhenFailing) this.accepted.push(...alerts);
      throw new Error(`injected sink failure on call ${call}`);
    }
    this.accepted.push(...alerts);
  }
}

describe('process batch: anomaly sinks fed from the journal (in-memory store)', () => {
  it('law: every anomaly (held back ones too) reaches the sink; copies only after a failure, same alert', async () => {
    await fc.assert(
      fc.asyncProperty(
        streamArb,
        cutsArb,
        detectionArb,
        fc.uniqueArray(fc.nat({ max: 12 }), { maxLength: 4 }),
        fc.boolean(),
        async (records, cuts, detection, failing, landed) => {
          // Prepare
          const sink = new RecordingSink(new Set(failing), landed);
          const logged = new Map<string, AlertDecision>();
          const process = createBatchProcessor(detection.settings, {
            store: new MemoryWindowStore(),
            publisher: { publish: async () => {} },
            sinks: [sink],
            observer: {
              anomaly: (d) => logged.set(d.anomaly.alertId, d),
              rejected() {},
              published() {},
            },
            nowMs: () => STREAM_NOW_MS,
          });
          // Act: each batch retried until it succeeds, as the event source mapping does
          for (const batch of cutAt(records, cuts)) {
            for (let attempt = 0; ; attempt += 1) {
              try {
                await process(batch);
                break;
              } catch (error) {
                expect(String(error)).toMatch(/injected sink failure/);
                expect(attempt).toBeLessThan(20);
              }
            }
          }
          // Assess
          const expected = runReferenceModel(records, detection.reference);
          const ids = sink.accepted.map((d) => d.anomaly.alertId);
          expect(new Set(ids)).toEqual(new Set(logged.keys()));
          expect(logged.size).toBe(expected.anomalies.length);
          for (const d of sink.accepted) expect(d).toEqual(logged.get(d.anomaly.alertId));
          // A failed call that landed nothing leaves nothing to repeat: no copy at all.
          if (sink.failures === 0 || !landed) expect(ids).toHaveLength(new Set(ids).size);
        },
      ),
      lawParameters(150),
    );
  });

  it('without sinks a batch behaves as before: SNS gets only the notified ones', async () => {
    // Prepare
    const published: AlertDecision[] = [];
    const sink = new RecordingSink(new Set(), false);
    const t0 = Date.parse('2026-11-21T10:00:00Z');
    const values = [50, 51, 49, 50, 150, 50, 160, 50];
    const { toRawRecord } = await import('../helpers/kafka-events.ts');
    const records = values.map((v, i) =>
      toRawRecord({ offset: i, timestampMs: t0 + i * 1000, value: `sensor_1,${v}` }),
    );
    const process = createBatchProcessor(
      {
        slideMs: 5000,
        windowMs: 10_000,
        defaultDetector: { kind: 'threshold', threshold: 50 },
        rules: [],
        alertCooldownMs: 60_000,
        retentionMarginSeconds: 3600,
      },
      {
        store: new MemoryWindowStore(),
        publisher: { publish: async (a) => void published.push(...a) },
        sinks: [sink],
        nowMs: () => t0 + 60_000,
      },
    );
    // Act
    const report = await process(records);
    // Assess: two anomalies, the second held back by the cooldown: SNS one, the sink both
    expect(report.anomalies).toBe(2);
    expect(published.map((d) => d.anomaly.value)).toEqual([150]);
    expect(sink.accepted.map((d) => [d.anomaly.value, d.notify])).toEqual([
      [150, true],
      [160, false],
    ]);
  });
});
