import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/emulator/**/*.test.ts'],
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
