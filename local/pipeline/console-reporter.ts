import { anomalyLine } from '../../functions/core/alert-text.ts';
import type { Digest } from '../../functions/core/alerting/digest.ts';
import { type SilenceAlert, silenceLine } from '../../functions/core/silence.ts';
import type { AlertDecision } from '../../functions/core/types.ts';
import { digestLine } from '../../functions/detector/create-digest-handler.ts';
import type { Rejection } from '../../functions/ports.ts';
import type { DispatchHooks } from '../poller/dispatcher.ts';
import type { PollerStats } from '../poller/stats.ts';
import type { NotificationView } from './local-pipeline.ts';

export interface RunTotals {
  anomalies: number;
  critical: number;
  heldBack: number;
  /** Older than the freshness limit: in the digest only (docs/alerting.md). */
  stale: number;
  notifications: number;
  rejected: number;
  retries: number;
  readonly anomaliesBySensor: Map<string, number>;
  /** Silent and recovered alerts (docs/silence.md). */
  silent: number;
  recovered: number;
}

/**
 * What `npm start` prints: each anomaly as the Flink job's line, each notification as the
 * subscribers get it, retries, rejections and a periodic status line.
 */
export class ConsoleReporter {
  readonly totals: RunTotals = {
    anomalies: 0,
    critical: 0,
    heldBack: 0,
    stale: 0,
    notifications: 0,
    rejected: 0,
    retries: 0,
    anomaliesBySensor: new Map(),
    silent: 0,
    recovered: 0,
  };
  private lastStatus = { atMs: Date.now(), processed: 0 };

  constructor(
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
    private readonly startedMs = Date.now(),
  ) {}

  anomaly(decision: AlertDecision): void {
    const { anomaly } = decision;
    this.totals.anomalies += 1;
    if (anomaly.severity === 'critical') this.totals.critical += 1;
    if (decision.stale === true) this.totals.stale += 1;
    else if (!decision.notify) this.totals.heldBack += 1;
    this.totals.anomaliesBySensor.set(
      anomaly.sensorId,
      (this.totals.anomaliesBySensor.get(anomaly.sensorId) ?? 0) + 1,
    );
    this.write(anomalyLine(anomaly));
  }

  /** `DIGEST → 12 anomalies (…); while catching up: N anomalies on M sensors`. */
  digest(d: Digest): void {
    this.write(digestLine(d));
  }

  /** `SILENT sensor_3: no reading for 12 s (limit 10 s), …` and `RECOVERED sensor_3: …`. */
  silence(alert: SilenceAlert): void {
    if (alert.kind === 'silent') this.totals.silent += 1;
    else this.totals.recovered += 1;
    this.write(silenceLine(alert));
  }

  notification(n: NotificationView): void {
    this.totals.notifications += 1;
    const attributes = Object.entries(n.attributes)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    this.write(`  SNS → ${n.subject}  {${attributes}}`);
    this.write(`        sms: ${n.sms}`);
  }

  rejected(r: Rejection): void {
    this.totals.rejected += 1;
    const { topic, partition, offset } = r.source;
    this.write(
      `REJECTED ${topic}-${partition}@${offset}: ${r.reason} (${r.detail}) value=${JSON.stringify(r.rawPreview)}`,
    );
  }

  /** Poller hooks: failed batches are shown with their retry delay. */
  hooks(): DispatchHooks {
    return {
      failed: ({ records, attempt, error, retryInMs }) => {
        this.totals.retries += 1;
        this.write(
          `BATCH FAILED (${records} records, attempt ${attempt}): ${(error as Error).message}; retrying the same batch in ${retryInMs} ms`,
        );
      },
      commitFailed: (offsets, error) => {
        this.write(
          `offset commit failed for ${offsets.length} partition(s): ${(error as Error).message} (records may be redelivered)`,
        );
      },
    };
  }

  status(stats: PollerStats, lag: number | null): void {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.lastStatus.atMs) / 1000);
    const rate = (stats.recordsProcessed - this.lastStatus.processed) / seconds;
    this.lastStatus = { atMs: now, processed: stats.recordsProcessed };
    const t = this.totals;
    this.write(
      `[${elapsed(now - this.startedMs)}] ${rate.toFixed(1)} readings/s · lag ${lag ?? '?'} · ` +
        `${stats.recordsProcessed} processed in ${stats.batches} batches · anomalies ${t.anomalies} · ` +
        `notifications ${t.notifications} (held back ${t.heldBack}) · rejected ${t.rejected} · retries ${t.retries}`,
    );
  }

  summary(stats: PollerStats, produced: number | null, lag: number | null): void {
    const t = this.totals;
    const seconds = (Date.now() - this.startedMs) / 1000;
    const bySensor = [...t.anomaliesBySensor.entries()]
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
      .map(([sensor, n]) => `${sensor}: ${n}`)
      .join(', ');
    this.write('');
    this.write(`Summary after ${seconds.toFixed(1)} s`);
    if (produced !== null) this.write(`  readings produced     ${produced}`);
    this.write(
      `  records processed     ${stats.recordsProcessed} in ${stats.batches} Lambda invocations`,
    );
    this.write(
      `  anomalies             ${t.anomalies} (${t.critical} critical)${bySensor ? ` — ${bySensor}` : ''}`,
    );
    this.write(
      `  notifications         ${t.notifications} sent, ${t.heldBack} held back by the cooldown${t.stale > 0 ? `, ${t.stale} stale (digest only)` : ''}`,
    );
    if (t.silent + t.recovered > 0)
      this.write(`  silent sensors        ${t.silent} silent, ${t.recovered} recovered`);
    this.write(`  rejected records      ${t.rejected}`);
    this.write(`  failed invocations    ${stats.failedInvocations} (each retried)`);
    this.write(`  lag at exit           ${lag ?? '?'}`);
  }
}

function elapsed(ms: number): string {
  const total = Math.floor(ms / 1000);
  return `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
}
