// Push overhead benchmark: `npm run bench -- --only delivery [--findings N] [--json]` (or
// `npx tsx bench/push-bench.ts`). On a private moto, records N changed findings with the outbox off
// and on (the extra outbox item in each transaction), then delivers them to EventBridge and Security
// Hub under the outbox lease (as the CLI and the outbox-delivery function do), and prints the cost
// per changed finding of each part, and the fixed cost of a delivery run that finds nothing (lease,
// outbox reads, status writes: what the function pays every minute). Exit 0 when it ran, 2 when it could not.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CreateEventBusCommand } from '@aws-sdk/client-eventbridge';
import { createAwsClients } from '#shared/aws/clients.ts';
import { loadConfig } from '#shared/config.ts';
import { deliverConfigured } from '#shared/delivery/destinations.ts';
import type { Finding } from '#shared/domain/finding.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '#shared/findings/dynamodb-store.ts';
import { freePort, startEmulator } from '../cli/emulator-process.ts';

const { values } = parseArgs({ options: { findings: { type: 'string', default: '300' }, json: { type: 'boolean', default: false } } });
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
  const on = await time(() => new DynamoFindingsStore(clients.documents, 'push-bench-on', { outbox: ['eventbridge', 'securityhub'] }).record(findings('on')));
  const config = { ...loadConfig({ ...process.env, SSEGUARD_TABLE: 'push-bench-on' }), integrations: { eventBus: 'push-bench', securityHub: true } };
  let delivery;
  const push = await time(async () => (delivery = await deliverConfigured(config, clients.documents)));
  const idle = await time(() => deliverConfigured(config, clients.documents, { holder: 'bench' }));
  const per = (ms: number) => `${(ms / N).toFixed(2)} ms`;
  if (values.json) {
    const round = (ms: number) => Math.round(ms * 100) / 100;
    console.log(JSON.stringify({ delivery: { findings: N, recordMsPerFinding: round(off / N), outboxMsPerFinding: round((on - off) / N), pushMsPerFinding: round(push / N), idleRunMs: round(idle), result: delivery } }));
  } else {
    console.log(`${N} changed findings on moto (node ${process.version}, 2 shared CPUs):`);
    console.log(`  record without outbox   ${off.toFixed(0)} ms   ${per(off)} per finding`);
    console.log(`  record with outbox      ${on.toFixed(0)} ms   ${per(on)} per finding   (+${per(on - off)})`);
    console.log(`  deliver (lease, EventBridge + Security Hub, delete from outbox)   ${push.toFixed(0)} ms   ${per(push)} per finding`);
    console.log(`  a delivery run with nothing to send (lease, outbox reads, status)   ${idle.toFixed(0)} ms`);
    console.log(`  ${JSON.stringify(delivery)}`);
  }
} finally {
  await emulator.stop();
}
