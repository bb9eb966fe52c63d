/**
 * A progress line for long runs (records, rate, share done and ETA), on a terminal only: a
 * pipe or a file gets nothing, so logs and captured output stay clean. Redrawn in place at
 * most every `intervalMs`, erased when the run ends.
 */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** Where the line goes: standard error, as curl and kcat do. */
  readonly stream: ProgressStream;
  /** What is counted: `records`. */
  readonly unit: string;
  /** The input's size in bytes, when known (a file): gives the share done and the ETA. */
  readonly totalBytes?: number;
  /** @default 250 */
  readonly intervalMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

export class Progress {
  private readonly startedMs: number;
  private lastDrawnMs = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private readonly on: boolean;

  constructor(private readonly options: ProgressOptions) {
    this.on = options.stream.isTTY === true;
    this.startedMs = (options.now ?? Date.now)();
  }

  /** `count` so far and, for a file, the bytes read so far. */
  tick(count: number, bytesRead?: number): void {
    if (!this.on) return;
    const nowMs = (this.options.now ?? Date.now)();
    if (nowMs - this.lastDrawnMs < (this.options.intervalMs ?? 250)) return;
    this.lastDrawnMs = nowMs;
    this.options.stream.write(`\r\x1b[K${this.line(count, bytesRead, nowMs)}`);
    this.drawn = true;
  }

  /** Erases the line (the caller prints its own summary). */
  done(): void {
    if (this.drawn) this.options.stream.write('\r\x1b[K');
    this.drawn = false;
  }

  /** The line as drawn: `120,000 records · 61,200/s · 38% · ETA 9 s`. */
  line(count: number, bytesRead: number | undefined, nowMs: number): string {
    const seconds = Math.max(0.001, (nowMs - this.startedMs) / 1000);
    const parts = [
      `${count.toLocaleString('en-US')} ${this.options.unit}`,
      `${Math.round(count / seconds).toLocaleString('en-US')}/s`,
    ];
    const total = this.options.totalBytes;
    if (total !== undefined && total > 0 && bytesRead !== undefined && bytesRead > 0) {
      const share = Math.min(1, bytesRead / total);
      parts.push(`${Math.floor(share * 100)}%`);
      const etaSeconds = (seconds * (1 - share)) / share;
      parts.push(`ETA ${formatSeconds(etaSeconds)}`);
    }
    return parts.join(' · ');
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.ceil(s - m * 60)).padStart(2, '0')} s`;
}
