// `sseguard emulator`: runs the local AWS emulator in the foreground until Ctrl-C.
import { emulatorEnvironment, startEmulator } from '../emulator-process.ts';

export async function emulatorCommand(options: { port: number }): Promise<number> {
  const emulator = await startEmulator({ port: options.port });
  console.log(`sseguard emulator: moto server with sseguard's fidelity patches on ${emulator.endpoint}`);
  const exports = Object.entries(emulatorEnvironment(emulator.endpoint)).map(([name, value]) => `${name}=${value}`);
  console.log(`  export ${exports.join(' ')}`);
  console.log('Press Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await emulator.stop();
  console.log('sseguard emulator: stopped');
  return 0;
}
