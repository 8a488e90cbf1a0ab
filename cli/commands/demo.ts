// `sseguard demo`: everything on the emulator in one command — start it, seed keys in every state
// and objects in every mode, create the table, scan with the example policy, report, stop.
import { fileURLToPath } from 'node:url';
import { loadConfig } from '#shared/config.ts';
import { createAwsClients } from '#shared/aws/clients.ts';
import { freePort, startEmulator, useEmulator } from '../emulator-process.ts';
import { DEMO_BUCKET, seedDemo } from '../demo-seed.ts';
import { initCommand } from './init.ts';
import { reportCommand } from './report.ts';
import { scanCommand } from './scan.ts';

export const DEMO_POLICY = fileURLToPath(new URL('../../examples/demo-policy.yaml', import.meta.url));

export async function demoCommand(options: { port?: number }): Promise<number> {
  const emulator = await startEmulator({ port: options.port ?? (await freePort()) });
  try {
    // The demo talks only to its own emulator, with the emulator's dummy credentials.
    useEmulator(emulator.endpoint);
    const config = loadConfig();
    console.log(`▶ emulator on ${emulator.endpoint}`);
    await seedDemo(createAwsClients({ endpoint: emulator.endpoint }));
    console.log(`▶ seeded s3://${DEMO_BUCKET}: KMS keys enabled, rotation off, disabled and pending deletion; objects in every mode`);
    await initCommand(config, (line) => console.log(`▶ ${line}`));
    console.log(`▶ sseguard scan --bucket ${DEMO_BUCKET} --policy examples/demo-policy.yaml\n`);
    const scanExit = await scanCommand(config, { bucket: DEMO_BUCKET, policy: DEMO_POLICY, concurrency: 8, json: false, record: true, remediation: 'report' });
    console.log(`(scan exit code ${scanExit}: 1 means something is not proven compliant — as seeded)\n`);
    console.log('▶ sseguard report\n');
    await reportCommand(config, { format: 'table' });
    return 0;
  } finally {
    await emulator.stop();
  }
}
