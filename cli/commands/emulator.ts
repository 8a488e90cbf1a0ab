// `sseguard emulator [--engine moto|localstack|ministack]`: runs a local AWS emulator in the
// foreground until Ctrl-C, prints the variables that point the SDK at it, and on the way out stops
// everything it started (for localstack: LocalStack, the moto server serving DynamoDB, and the
// chroot's mounts).
import { startEmulator, type Engine } from '../emulator-process.ts';
import { CliError } from '../vocabulary.ts';

const DESCRIPTIONS: Record<Engine, string> = {
  moto: "moto server with sseguard's fidelity patches (S3, KMS, DynamoDB, SQS, EventBridge)",
  localstack: 'LocalStack for S3, KMS, SQS and EventBridge (in its Debian 13 chroot, KMS key validation on), moto for DynamoDB',
  ministack: 'ministack (S3, KMS, DynamoDB, SQS, EventBridge) — a second opinion, not for S3 encryption semantics: never remediate against it',
};

export async function emulatorCommand(options: { port: number; engine: Engine }): Promise<number> {
  let emulator;
  try {
    emulator = await startEmulator({ engine: options.engine, port: options.port });
  } catch (error) {
    // One line, exit 2 (could not complete), like every other command's error.
    throw new CliError(`${options.engine} did not start: ${(error as Error).message}`);
  }
  console.log(`sseguard emulator: ${DESCRIPTIONS[options.engine]} on ${emulator.endpoint}`);
  const exports = Object.entries(emulator.environment).map(([name, value]) => `${name}=${value}`);
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
