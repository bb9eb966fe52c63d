import { INITIAL_COOLDOWN } from '../../core/cooldown.ts';
import type { DetectorResolver } from '../../core/detector-rules.ts';
import type { DetectorSpec } from '../../core/detectors.ts';
import type { OpenWindows } from '../../core/open-windows.ts';
import { type AlertDecision, type Anomaly, type Reading, SEVERITIES } from '../../core/types.ts';
import {
  type FlinkLineFormat,
  judgeClosedWindow,
  type WindowDecision,
} from '../../core/window-close-judge.ts';
import { cooldownDecision, type WindowCloseHook } from '../judge.ts';
import type { WorkingState } from '../working-state.ts';

/** How the window detectors judge (semantics.md §3): on arrival, or when each window closes. */
export type Evaluation = 'arrival' | 'window-close';
export const EVALUATIONS: readonly Evaluation[] = ['arrival', 'window-close'];

/** The settings of window-close evaluation, beside the detection settings. */
export interface WindowCloseSettings {
  /** @default 'arrival' */
  readonly evaluation?: Evaluation;
  /** How far behind a partition's latest event time a reading may be. @default 2000 */
  readonly allowedLatenessMs?: number;
  /**
   * Which seed job's arithmetic and number format: 'python' (values as 4-byte floats, as the
   * PyFlink job's `Types.FLOAT()` gives its window function) or 'java' (doubles).
   * @default 'python'
   */
  readonly flinkFormat?: FlinkLineFormat;
}

export interface ClosingContext {
  readonly open: OpenWindows;
  readonly work: WorkingState;
  readonly resolveDetector: DetectorResolver;
  /** The partition's topic: rules may match on it. */
  readonly topic: string;
  readonly format: FlinkLineFormat;
  readonly alertCooldownMs: number;
  readonly nowMs: number;
  /** The partition's epoch (alert ids of a later epoch carry it). */
  readonly epoch: () => number;
  /** Whether the outbox has reached its budget (the batch's measure). */
  readonly outboxFull: (alerts: readonly AlertDecision[]) => boolean;
}

/** What closing windows did in one attempt, for the batch report and the log. */
export interface ClosingCounts {
  windowsClosed: number;
  /** Readings that arrived after every window they belong to had closed. */
  readonly late: Reading[];
  /** (reading, window) pairs left out because the window had closed. */
  lateWindows: number;
  /** Windows whose sensor's detector is no longer a window detector (rules changed). */
  windowsSkipped: number;
}

/**
 * One attempt's closing of windows (semantics.md §3, window-close evaluation): readings of
 * window detectors are queued in stream order and taken one at a time; before each, every
 * window the watermark has passed closes, in order of (end, sensor id), each judged whole as
 * the seed's WindowFunction does, its flagged readings going through the sensor's cooldown
 * into the outbox. When the outbox reaches its budget, closing stops after that decision; the
 * cursor (in the root) says where the next commit goes on, and no reading is taken meanwhile.
 */
export class WindowClosing implements WindowCloseHook {
  readonly counts: ClosingCounts = {
    windowsClosed: 0,
    late: [],
    lateWindows: 0,
    windowsSkipped: 0,
  };
  /** Whether a reading moved the watermark in this attempt. */
  moved = false;

  /**
   * @param queued readings offered and not yet taken (only while due windows remain): shared
   *   with the partition's later pieces, and stored in the root between commits.
   */
  constructor(
    private readonly ctx: ClosingContext,
    readonly queued: Reading[],
  ) {}

  takes(spec: DetectorSpec): boolean {
    return judgesWindows(spec);
  }

  offer(reading: Reading, alerts: AlertDecision[]): void {
    this.queued.push(reading);
    this.drain(alerts);
  }

  /** Whether anything is left to do: due windows to close or readings to take. */
  get pending(): boolean {
    return this.queued.length > 0 || this.ctx.open.hasDue;
  }

  drain(alerts: AlertDecision[]): boolean {
    const { open } = this.ctx;
    for (;;) {
      if (this.closeDue(alerts)) return true;
      const next = this.queued.shift();
      if (next === undefined) return false;
      const before = open.watermarkMs;
      const added = open.add(next.sensorId, {
        value: next.value,
        eventTimeMs: next.eventTimeMs,
        source: next.source,
        ...(next.index === undefined ? {} : { index: next.index }),
      });
      if (open.watermarkMs > before) this.moved = true;
      this.counts.lateWindows += added.lateWindows;
      if (added.late) this.counts.late.push(next);
    }
  }

  /** Closes due windows in order; true when it stopped at the outbox's budget. */
  closeDue(alerts: AlertDecision[]): boolean {
    const { ctx } = this;
    const { open } = ctx;
    for (let due = open.peekDue(); due !== undefined; due = open.peekDue()) {
      const { window, fromSeq } = due;
      const spec = ctx.resolveDetector(window.sensorId, ctx.topic);
      if (!judgesWindows(spec)) {
        this.counts.windowsSkipped += 1;
        open.finish(window);
        continue;
      }
      const precision = ctx.format === 'python' ? 'float32' : 'float64';
      for (const d of judgeClosedWindow(window, spec, precision)) {
        if (d.reading.seq < fromSeq) continue;
        // At least one decision per commit: closing always moves on.
        if (alerts.length > 0 && ctx.outboxFull(alerts)) {
          open.pauseAt(window, d.reading.seq);
          return true;
        }
        alerts.push(this.decide(d, spec));
      }
      open.finish(window);
      this.counts.windowsClosed += 1;
    }
    return false;
  }

  private decide(d: WindowDecision, spec: DetectorSpec): AlertDecision {
    const { ctx } = this;
    const { topic, partition, offset } = d.reading.source;
    const epoch = ctx.epoch();
    const index = d.reading.index;
    const anomaly: Anomaly = {
      // The reading's id and the window's end: one decision per (window, reading).
      alertId: `${topic}-${partition}-${offset}${index ? `.${index}` : ''}${epoch === 0 ? '' : `~${epoch}`}@${d.windowEndMs}`,
      sensorId: d.sensorId,
      value: d.reading.value,
      mean: d.verdict.mean,
      count: d.verdict.count,
      deviation: d.verdict.deviation,
      limit: d.verdict.limit,
      detector: spec.kind,
      ...(spec.kind === 'zscore' ? { sigma: spec.sigma } : {}),
      eventTimeMs: d.reading.eventTimeMs,
      severity:
        d.verdict.deviation >= 2 * d.verdict.limit ? SEVERITIES.critical : SEVERITIES.warning,
      source: d.reading.source,
      windowEndMs: d.windowEndMs,
      seedFormat: ctx.format,
    };
    const index_ = ctx.work.index(d.sensorId);
    const state = ctx.work.sensorState(index_);
    const decision = cooldownDecision(
      state?.cooldown ?? INITIAL_COOLDOWN,
      d.reading.eventTimeMs,
      ctx.nowMs,
      ctx.alertCooldownMs,
    );
    ctx.work.setSensorState(index_, {
      cooldown: decision.next,
      ...(state?.learned === undefined ? {} : { learned: state.learned }),
      ...(state?.episode === undefined ? {} : { episode: state.episode }),
    });
    return { anomaly, notify: decision.notify, heldBackBefore: decision.heldBackBefore };
  }
}

/** The window detectors (threshold, zscore): the others judge each reading on arrival. */
export function judgesWindows(spec: DetectorSpec): boolean {
  return spec.kind === 'threshold' || spec.kind === 'zscore';
}
