import type { OpenPartitions } from './partition-windows.ts';

/** The list of partitions with open windows, in process memory (npm start, the backtest, tests). */
export class MemoryOpenPartitions implements OpenPartitions {
  readonly pids = new Set<string>();

  async add(pid: string): Promise<void> {
    this.pids.add(pid);
  }

  async list(): Promise<readonly string[]> {
    return [...this.pids].sort();
  }
}
