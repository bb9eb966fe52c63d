import { defineConfig } from 'vitest/config';
import { LongFirstSequencer } from './test/helpers/long-first-sequencer.ts';

/**
 * Two groups, one after the other. vitest's default on 2 cores is a single worker ("available
 * parallelism - 1"), which leaves the cores idle while the slow files wait: a consumer group
 * joining, an `npm start` running its seconds, a CLI spawned. Every file but the CDK ones runs
 * first, three at a time, the property laws and unit suites using the time the waiting files
 * leave; then the CDK files (synths with their esbuild bundles, the package's consumer apps)
 * two at a time, one per core. The longest files start first
 * (test/helpers/long-first-sequencer.ts). Each file has its own services, tables, topics and
 * temporary directories (test/helpers/worker-services.ts).
 */
const CDK = ['test/infra/**/*.test.ts'];

const shared = {
  // Integration tests start real local services (dynalite, an SNS endpoint, kcat's mock
  // cluster); they need more than the default 5 s on a loaded 2-core machine.
  testTimeout: 120_000,
  hookTimeout: 120_000,
  pool: 'forks' as const,
  // As the CLIs do (local/flags/quiet-sdk.ts): no 8-line AWS SDK NodeVersionSupportWarning on Node 20.
  env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
};

export default defineConfig({
  test: {
    // The CLIs the tests spawn, bundled once per run (test/helpers/cli-bundles.ts).
    globalSetup: ['test/helpers/cli-bundles.ts'],
    sequence: { sequencer: LongFirstSequencer },
    projects: [
      {
        test: {
          ...shared,
          // Every file but the CDK ones: those that wait (services, clocks, spawned CLIs) and
          // those that compute (property laws, unit suites), in one queue, so that the
          // computing files use the time the waiting ones leave.
          name: 'local',
          include: ['test/**/*.test.ts'],
          exclude: CDK,
          maxWorkers: 3,
          // A worker runs file after file in one process, imports loaded once (a third of
          // the waiting files' CPU when each had its own). Nothing a file sets outlives it: no
          // process-wide environment or module state (local telemetry is silent by its own
          // Metrics class, not by POWERTOOLS_METRICS_DISABLED; stubbed variables are unstubbed).
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'cdk',
          include: CDK,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          // A worker runs file after file in one process: aws-cdk-lib loads once, and each
          // CDK context is synthesized, and the handlers bundled with esbuild, once per worker
          // rather than once per file and app (test/infra/synth.ts). These files only read
          // what they synthesize.
          isolate: false,
          // A worker's first synth bundles every handler: on a loaded machine its file's
          // beforeAll can take minutes.
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
