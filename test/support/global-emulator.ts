// Starts one emulator on a free port for the integration project and stops it afterwards.
import type { TestProject } from 'vitest/node';
import { freePort, startEmulator } from '../../cli/emulator-process.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    emulatorEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const emulator = await startEmulator({ port: await freePort() });
  project.provide('emulatorEndpoint', emulator.endpoint);
  return async () => {
    await emulator.stop();
  };
}
