import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real local services (dynalite, an SNS endpoint, kcat's
    // mock cluster); they need more than the default 5 s on a loaded 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // As the CLIs do (local/cli/quiet-sdk.ts): no 8-line AWS SDK NodeVersionSupportWarning on Node 20.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
