import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The JSON report lets .ci/run print the totals in a form CI reads.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Handlers run in-process in tests: no EMF metric lines, only errors in the log.
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      // moto on a loaded two-core machine can pause for seconds; the product's 3 s default (for AWS)
      // is what the black-hole test exercises, with the variable set back explicitly.
      SSEGUARD_SOCKET_TIMEOUT_MS: '20000',
    },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Pure tests take milliseconds; the default 5 s failed a bundling test on a loaded machine
          // (5,005 ms). Tests that bundle, spawn or start servers also set their own, longer timeouts.
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/emulator/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/global-emulator.ts'],
          setupFiles: ['test/support/reset-emulator.ts'],
          // One emulator serves every file and is reset before each: files run one at a time.
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
