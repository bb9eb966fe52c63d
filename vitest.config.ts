import { defineConfig } from 'vitest/config';

/**
 * Two groups, one after the other. vitest's default on 2 cores is a single worker ("available
 * parallelism - 1"), which leaves the cores idle while the slow files wait: a consumer group
 * joining, an `npm start` running its seconds, a CLI spawned. Those run three at a time
 * first; then the files that keep a core busy the whole time (CDK synths with their esbuild
 * bundles, the property laws, the unit suites) two at a time, one per core, so none starves.
 * Each file has its own services, tables, topics and temporary directories.
 */
const COMPUTE = [
  'test/infra/**/*.test.ts',
  'test/unit/**/*.test.ts',
  'test/reliability/laws-*.test.ts',
  'test/integration/handler-laws.test.ts',
];

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
    projects: [
      {
        test: {
          ...shared,
          name: 'waiting',
          include: ['test/**/*.test.ts'],
          exclude: COMPUTE,
          maxWorkers: 3,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'compute',
          include: COMPUTE,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
