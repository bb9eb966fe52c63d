import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real local services (dynalite, an SNS endpoint, kcat's
    // mock cluster); they need more than the default 5 s on a loaded 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Files run side by side: vitest's default on 2 cores is one worker ("available
    // parallelism - 1"), but most of the slow files wait (a consumer group joining, an
    // npm start running its 18 s, a cdk synth's child processes), so 2 cores keep 3 busy.
    // Each file has its own services, tables, topics and temporary directories.
    maxWorkers: 3,
    // As the CLIs do (local/flags/quiet-sdk.ts): no 8-line AWS SDK NodeVersionSupportWarning on Node 20.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
