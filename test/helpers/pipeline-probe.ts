import type { AlertDecision } from '../../functions/core/types.ts';
import type { AlertPublisher, BatchObserver } from '../../functions/ports.ts';
import type { ReferenceResult } from './reference-model.ts';

/** Records what a pipeline run decided and sent, in the shape the reference model gives. */
export class PipelineProbe implements BatchObserver {
  readonly anomalies: AlertDecision[] = [];
  readonly rejections: string[] = [];
  /** alertId → held-back count, for every notification accepted by the publisher. */
  readonly sent = new Map<string, number>();
  publishCalls = 0;

  rejected(r: { source: { offset: number } }): void {
    this.rejections.push(String(r.source.offset));
  }
  anomaly(decision: AlertDecision): void {
    this.anomalies.push(decision);
  }
  // The observer's `published` is informational; what the publisher accepted is the proof.
  published(_alerts: readonly AlertDecision[]): void {}

  recordPublished(alerts: readonly AlertDecision[]): void {
    for (const a of alerts) this.sent.set(a.anomaly.alertId, a.heldBackBefore);
  }

  /** An in-memory publisher that records what it accepts. */
  publisher(): AlertPublisher {
    return {
      publish: async (alerts) => {
        this.publishCalls += 1;
        this.recordPublished(alerts);
      },
    };
  }

  anomalySummary() {
    return this.anomalies
      .map(({ anomaly: a }) => ({
        alertId: a.alertId,
        sensorId: a.sensorId,
        value: a.value,
        mean: a.mean,
        count: a.count,
        severity: a.severity,
      }))
      .sort((x, y) => x.alertId.localeCompare(y.alertId));
  }
}

export function referenceSummary(result: ReferenceResult) {
  return [...result.anomalies].sort((x, y) => x.alertId.localeCompare(y.alertId));
}
