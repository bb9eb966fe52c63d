import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest, longest first: seconds of wall time beside each, measured on
 * two cores among the files running beside them (`npm test`, December 2026). vitest orders a
 * group's files by the durations of its last run, kept under node_modules/.vite; a fresh
 * clone has none, and then it keeps the glob's order, which can leave a one-minute file for
 * last. Files not named here follow in vitest's own order. A stale entry only costs time,
 * never a test.
 */
export const LONG_FIRST: readonly string[] = [
  'test/infra/package.test.ts', // 57
  'test/integration/silence-bounded.test.ts', // 53
  'test/infra/cli.test.ts', // 41
  'test/reliability/local-pipeline-faults.test.ts', // 39
  'test/e2e/cli-anywhere.test.ts', // 38
  'test/e2e/readme-commands.test.ts', // 33
  'test/reliability/laws-dynalite.test.ts', // 32
  'test/e2e/silence.test.ts', // 29
  'test/e2e/backlog-digest.test.ts', // 21
  'test/e2e/live-view.test.ts', // 19
  'test/integration/handler-laws.test.ts', // 18
  'test/e2e/window-close-cli.test.ts', // 17
  'test/e2e/kafka-pipeline.test.ts', // 17
  'test/e2e/anomalies-topic.test.ts', // 17
  'test/e2e/rules-npm-start.test.ts', // 16
  'test/infra/self-managed.test.ts', // 13, with its worker's first bundling synth
  'test/integration/repartition.test.ts', // 10
  'test/e2e/cli.test.ts', // 10
  'test/reliability/state-failure-modes.test.ts', // 10
  'test/e2e/cli-mistakes.test.ts', // 9
];

export class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const rank = (file: TestSpecification) => {
      const index = LONG_FIRST.indexOf(relative(root, file.moduleId));
      return index === -1 ? LONG_FIRST.length : index;
    };
    // Groups and projects keep vitest's order (a project's files go one after the other);
    // within a project, the named files first. Stable: unnamed files keep vitest's order.
    return sorted.sort(
      (a, b) =>
        a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder ||
        a.project.name.localeCompare(b.project.name) ||
        rank(a) - rank(b),
    );
  }
}
