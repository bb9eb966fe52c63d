import type { DetectorResolver } from '../../core/detector-rules.ts';
import type { OpenWindows } from '../../core/open-windows.ts';
import type { AlertDecision, Reading } from '../../core/types.ts';
import { DEFAULT_ALLOWED_LATENESS_MS, type WindowCloseSpec } from '../../core/window-close.ts';
import type { WindowSpec } from '../../core/windows.ts';
import type { BatchObserver } from '../../ports.ts';
import type { PageCache } from '../page-cache.ts';
import type { MutableReport } from '../report.ts';
import type { OpenWindowsRoot, PageWrite, PartitionRoot, PartitionStore } from '../state.ts';
import type { WorkingState } from '../working-state.ts';
import { type WindowCloseSettings, WindowClosing } from './closing.ts';
import { buildOpenPages, loadOpenWindows } from './open-pages.ts';

/**
 * Where partitions with open windows are listed, for the scheduled flush that closes the
 * windows of partitions gone quiet. Adding is idempotent and commutative (a set), so batches
 * of different partitions never conflict on it.
 */
export interface OpenPartitions {
  add(pid: string): Promise<void>;
  list(): Promise<readonly string[]>;
}

/** Partitions this container has listed already (per registry): one write per cold start. */
const listed = new WeakMap<OpenPartitions, Set<string>>();

export function windowCloseSpec(settings: WindowSpec & WindowCloseSettings): WindowCloseSpec {
  return {
    slideMs: settings.slideMs,
    windowMs: settings.windowMs,
    allowedLatenessMs: settings.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS,
  };
}

/**
 * One partition's window-close state for one invocation (docs/state.md, "Open windows"):
 * loaded from the root's open pages, changed by the batch's pieces, written with each commit.
 */
export class PartitionWindows {
  private committedSeq: number;
  private before: OpenWindowsRoot | undefined;
  private readonly queued: Reading[];
  private closing: WindowClosing | null = null;

  private constructor(
    readonly open: OpenWindows,
    root: PartitionRoot | null,
    readonly pagesRead: number,
    private readonly settings: WindowCloseSettings,
  ) {
    this.before = root?.openWindows;
    this.committedSeq = open.seq;
    this.queued = [...(root?.openWindows?.queued ?? [])];
  }

  /** Null when the partition judges on arrival. */
  static async load(
    ctx: { readonly store: PartitionStore; readonly cache: PageCache; readonly nowSeconds: number },
    pid: string,
    root: PartitionRoot | null,
    settings: WindowSpec & WindowCloseSettings,
  ): Promise<PartitionWindows | null> {
    if (settings.evaluation !== 'window-close') return null;
    const { open, pagesRead } = await loadOpenWindows(ctx, pid, root, windowCloseSpec(settings));
    return new PartitionWindows(open, root, pagesRead, settings);
  }

  /** Sensors whose cooldowns closing may need: held in open windows, or queued. */
  sensors(): string[] {
    return [...this.open.sensorsHeld(), ...this.queued.map((r) => r.sensorId)];
  }

  /** Whether due windows or queued readings wait (a commit stopped at its outbox's budget). */
  get pending(): boolean {
    return this.queued.length > 0 || this.open.hasDue;
  }

  /** The hook judging uses in this piece (the working state is the piece's). */
  hook(ctx: {
    readonly work: WorkingState;
    readonly resolveDetector: DetectorResolver;
    readonly topic: string;
    readonly alertCooldownMs: number;
    readonly nowMs: number;
    readonly epoch: () => number;
    readonly outboxFull: (alerts: readonly AlertDecision[]) => boolean;
  }): WindowClosing {
    this.closing = new WindowClosing(
      { ...ctx, open: this.open, format: this.settings.flinkFormat ?? 'python' },
      this.queued,
    );
    return this.closing;
  }

  /** The open pages of this commit and the root's open-window state after it. */
  build(input: {
    readonly pid: string;
    readonly gen: string;
    readonly nowMs: number;
    readonly expiresAtEpochSeconds: number;
    /** The flush sets it (it moved the watermark by the time the partition was quiet). */
    readonly movedAtMs?: number;
  }): { writes: PageWrite[]; root: OpenWindowsRoot } {
    const moved = this.closing?.moved === true || this.before === undefined;
    return buildOpenPages({
      pid: input.pid,
      before: this.before,
      open: this.open,
      committedSeq: this.committedSeq,
      queued: [...this.queued],
      gen: input.gen,
      expiresAtEpochSeconds: input.expiresAtEpochSeconds,
      movedAtMs: input.movedAtMs ?? (moved ? input.nowMs : (this.before?.movedAtMs ?? input.nowMs)),
    });
  }

  /**
   * Once judged, before the commit: late readings are counted and told, as rejections are.
   * Whether a reading is late depends on it and the committed watermark alone, so a retry
   * that finds its records committed (their commit's response was lost) would never tell
   * them: they are told at least once, on every attempt that judges them.
   */
  judged(report: MutableReport, observer: BatchObserver): void {
    const counts = this.closing?.counts;
    if (counts === undefined) return;
    report.lateReadings = (report.lateReadings ?? 0) + counts.late.length;
    report.lateWindowDrops = (report.lateWindowDrops ?? 0) + counts.lateWindows;
    for (const r of counts.late) observer.late?.(r);
  }

  /** After the commit held: the next piece appends after it; closed windows are counted. */
  committed(root: OpenWindowsRoot, report: MutableReport): void {
    this.before = root;
    this.committedSeq = this.open.seq;
    const counts = this.closing?.counts;
    this.closing = null;
    if (counts === undefined) return;
    report.windowsClosed = (report.windowsClosed ?? 0) + counts.windowsClosed;
  }

  /**
   * Lists the partition for the scheduled flush, once per container, before the commit that
   * writes `next` (a commit whose response is lost is not redone by its retry, which finds it
   * decided: a listing after it could be lost with it).
   */
  async list(
    registry: OpenPartitions | undefined,
    pid: string,
    next: OpenWindowsRoot,
  ): Promise<void> {
    if (registry === undefined || next.buckets.length === 0) return;
    let done = listed.get(registry);
    if (done === undefined) {
      done = new Set();
      listed.set(registry, done);
    }
    if (done.has(pid)) return;
    await registry.add(pid);
    done.add(pid);
  }
}
