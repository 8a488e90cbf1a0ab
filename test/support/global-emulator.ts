// Starts one emulator on a free port for an integration project and stops it afterwards; which
// one is SSEGUARD_TEST_ENGINE's choice (test/support/engines.ts).
import type { TestProject } from 'vitest/node';
import { freePort, startEmulator, type Engine } from '../../cli/emulator-process.ts';
import { testEngine } from './engines.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    emulatorEngine: Engine;
    /** The engine's gateway (for localstack: LocalStack's; DynamoDB is in emulatorEnvironment). */
    emulatorEndpoint: string;
    /** The variables that point the SDK at the emulator (service-specific endpoints where it is split). */
    emulatorEnvironment: Record<string, string>;
    /** The engine's own reset endpoints (for localstack: LocalStack's and the DynamoDB moto's). */
    emulatorResetUrls: string[];
  }
}

export default async function setup(project: TestProject) {
  const engine = testEngine();
  const emulator = await startEmulator({ engine, port: await freePort() });
  project.provide('emulatorEngine', engine);
  project.provide('emulatorEndpoint', emulator.endpoint);
  project.provide('emulatorEnvironment', emulator.environment);
  project.provide('emulatorResetUrls', emulator.resetUrls);
  return async () => {
    await emulator.stop();
  };
}
