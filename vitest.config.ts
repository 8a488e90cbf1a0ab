import { defineConfig } from 'vitest/config';
import { MINISTACK_SUITES, testEngine } from './test/support/engines.ts';

// SSEGUARD_TEST_ENGINE chooses the emulator (test/support/engines.ts): unset (moto), the unit and
// integration projects; ministack, the suites that do not depend on S3 encryption semantics
// again against ministack; localstack, test/localstack/. .ci/run runs all three, one after another.
const engine = testEngine();

/** A project on one emulator that every file shares and is reset before each: files run one at a time. */
const onEmulator = (name: string, include: string[], timeouts = { testTimeout: 30_000, hookTimeout: 60_000 }) => ({
  test: {
    name,
    include,
    globalSetup: ['test/support/global-emulator.ts'],
    setupFiles: ['test/support/reset-emulator.ts'],
    fileParallelism: false,
    ...timeouts,
  },
});

const projects = {
  moto: [
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
    onEmulator('integration', ['test/integration/**/*.test.ts', 'test/emulator/**/*.test.ts', 'test/e2e/**/*.test.ts']),
  ],
  ministack: [onEmulator('ministack', MINISTACK_SUITES)],
  // LocalStack starts in seconds but answers more slowly than moto; its first KMS call loads a plugin.
  localstack: [onEmulator('localstack', ['test/localstack/**/*.test.ts'], { testTimeout: 60_000, hookTimeout: 180_000 })],
}[engine];

export default defineConfig({
  test: {
    // The JSON report lets .ci/run print the totals in a form CI reads (one file per engine, summed).
    reporters: ['default', 'json'],
    outputFile: { json: engine === 'moto' ? 'test-results/vitest.json' : `test-results/vitest-${engine}.json` },
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Handlers run in-process in tests: no EMF metric lines, only errors in the log.
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      // moto on a loaded two-core machine can pause for seconds; the product's 3 s default (for AWS)
      // is what the black-hole test exercises, with the variable set back explicitly.
      SSEGUARD_SOCKET_TIMEOUT_MS: '20000',
    },
    projects,
  },
});
