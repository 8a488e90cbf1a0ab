// `sseguard emulator`: runs the local AWS emulator in the foreground until Ctrl-C.
import { startEmulator } from '../emulator-process.ts';

export async function emulatorCommand(options: { port: number }): Promise<number> {
  const emulator = await startEmulator({ port: options.port });
  console.log(`sseguard emulator: moto server with sseguard's fidelity patches on ${emulator.endpoint}`);
  console.log(`  export AWS_ENDPOINT_URL=${emulator.endpoint} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing`);
  console.log('Press Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await emulator.stop();
  console.log('sseguard emulator: stopped');
  return 0;
}
