// Push overhead benchmark: `npx tsx bench/push-bench.ts [--findings N]`. On a private moto, records N
// changed findings with the outbox off and on (the extra outbox item in each transaction), then
// delivers them to EventBridge (a bus with a rule to SQS) and Security Hub, and prints the cost per
// changed finding of each part. Exit 0 when it ran, 2 when it could not.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CreateEventBusCommand } from '@aws-sdk/client-eventbridge';
import { createAwsClients } from '#shared/aws/clients.ts';
import { loadConfig } from '#shared/config.ts';
import { deliverConfigured } from '#shared/delivery/destinations.ts';
import type { Finding } from '#shared/domain/finding.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '#shared/findings/dynamodb-store.ts';
import { freePort, startEmulator } from '../cli/emulator-process.ts';

const { values } = parseArgs({ options: { findings: { type: 'string', default: '300' } } });
const N = Number(values.findings);

function findings(bucket: string): Finding[] {
  const at = new Date().toISOString();
  return Array.from({ length: N }, (_, i) => ({
    bucket,
    key: `data/object-${String(i).padStart(6, '0')}.csv`,
    size: 1024,
    etag: `"${i}"`,
    mode: 'sse-s3',
    verdict: 'noncompliant',
    reasons: [{ code: 'mode-not-allowed', message: 'SSE-S3 is not allowed by the policy' }],
    remediate: false,
    auditedAt: at,
  }));
}

const emulator = await startEmulator({ port: await freePort() }).catch((error: unknown) => {
  console.error(`push-bench: could not start the emulator: ${(error as Error).message}`);
  process.exit(2);
});
try {
  Object.assign(process.env, emulator.environment);
  const clients = createAwsClients();
  const { EventBridgeClient } = await import('@aws-sdk/client-eventbridge');
  await new EventBridgeClient({}).send(new CreateEventBusCommand({ Name: 'push-bench' }));
  const time = async (what: () => Promise<unknown>) => {
    const started = performance.now();
    await what();
    return performance.now() - started;
  };
  await ensureFindingsTable(clients.dynamodb, 'push-bench-off');
  await ensureFindingsTable(clients.dynamodb, 'push-bench-on');
  const off = await time(() => new DynamoFindingsStore(clients.documents, 'push-bench-off').record(findings('off')));
  const on = await time(() => new DynamoFindingsStore(clients.documents, 'push-bench-on', { outbox: true }).record(findings('on')));
  const config = { ...loadConfig({ ...process.env, SSEGUARD_TABLE: 'push-bench-on' }), integrations: { eventBus: 'push-bench', securityHub: true } };
  let delivery;
  const push = await time(async () => (delivery = await deliverConfigured(config, clients.documents)));
  const per = (ms: number) => `${(ms / N).toFixed(2)} ms`;
  console.log(`${N} changed findings on moto (node ${process.version}, 2 shared CPUs):`);
  console.log(`  record without outbox   ${off.toFixed(0)} ms   ${per(off)} per finding`);
  console.log(`  record with outbox      ${on.toFixed(0)} ms   ${per(on)} per finding   (+${per(on - off)})`);
  console.log(`  deliver (EventBridge + Security Hub, delete from outbox)   ${push.toFixed(0)} ms   ${per(push)} per finding`);
  console.log(`  ${JSON.stringify(delivery)}`);
} finally {
  await emulator.stop();
}
