// Scan throughput under throttling: seeds N objects on a private emulator, records them once, then
// re-scans through the fault proxy with a share of HeadObject answered 503 SlowDown and of KMS and
// DynamoDB requests throttled in their own error shapes. Prints objects/s, retries per object,
// objects not audited and the faults injected, per rate.
//   npx tsx bench/fault-bench.ts [--objects N] [--concurrency C] [--rates 0,0.1,0.3] [--json]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { freePort, startEmulator, useEmulator } from '../cli/emulator-process.ts';
import { scanBucket } from '#shared/audit/scan.ts';
import { createAwsClients } from '#shared/aws/clients.ts';
import { loadConfig } from '#shared/config.ts';
import { ensureFindingsTable } from '#shared/findings/dynamodb-store.ts';
import { createRuntime, scanDependencies } from '#shared/runtime.ts';
import { createBucket, createKey, putObject } from '../test/support/aws-fixtures.ts';
import { startFaultProxy } from '../test/support/fault-proxy.ts';

const HELP = `Usage: npx tsx bench/fault-bench.ts [--objects N] [--concurrency C] [--rates LIST] [--json]
Seeds N objects (half SSE-S3, half SSE-KMS) on a private emulator, records them with one scan, then
re-scans through a fault proxy that throttles that share of HeadObject (503 SlowDown), KMS and
DynamoDB requests, for each rate in LIST.
  --objects N       objects to seed (default 2000)
  --concurrency C   scan concurrency (default 16)
  --rates LIST      comma-separated shares of requests throttled (default 0,0.1,0.3)
  --json            print one JSON object as the last line`;

const BUCKET = 'bench-faults';

interface RateFigures {
  rate: number;
  seconds: number;
  objectsPerSec: number;
  retriesPerObject: number;
  notAudited: number;
  faultsInjected: number;
  headRequestsPerObject: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      objects: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '16' },
      rates: { type: 'string', default: '0,0.1,0.3' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const objects = Number(values.objects);
  const concurrency = Number(values.concurrency);
  const rates = values.rates.split(',').map(Number);
  for (const [name, value] of Object.entries({ objects, concurrency })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
  }
  if (rates.some((rate) => !(rate >= 0 && rate < 1))) throw new Error('--rates must be shares from 0 to below 1');

  const emulator = await startEmulator({ port: await freePort() });
  const proxy = await startFaultProxy({ target: emulator.endpoint, seed: 11 });
  try {
    useEmulator(emulator.endpoint, { SSEGUARD_TABLE: 'bench-faults-findings' });
    const seed = createAwsClients({ maxSockets: 32 });
    const key = await createKey(seed);
    await createBucket(seed, BUCKET);
    for (let i = 0; i < objects; i += 32) {
      await Promise.all(
        Array.from({ length: Math.min(32, objects - i) }, (_, j) =>
          putObject(seed, BUCKET, `o-${i + j}`, (i + j) % 2 ? { mode: 'sse-s3' } : { mode: 'sse-kms', key }),
        ),
      );
    }
    const direct = createRuntime(loadConfig(), { maxSockets: concurrency });
    await ensureFindingsTable(direct.clients.dynamodb, direct.config.table);
    await scanBucket(await scanDependencies(direct), { bucket: BUCKET, concurrency });

    const figures: RateFigures[] = [];
    for (const rate of rates) {
      proxy.setRules([
        { service: 's3', operation: 'HeadObject', rate, kind: 'throttle' },
        { service: 'kms', rate, kind: 'throttle' },
        { service: 'dynamodb', rate, kind: 'throttle' },
      ]);
      proxy.resetStats();
      const runtime = createRuntime(loadConfig({ ...process.env, AWS_ENDPOINT_URL: proxy.endpoint }), { maxSockets: concurrency });
      const started = performance.now();
      const result = await scanBucket(await scanDependencies(runtime), { bucket: BUCKET, concurrency });
      const seconds = (performance.now() - started) / 1000;
      const stats = proxy.stats();
      figures.push({
        rate,
        seconds: Number(seconds.toFixed(2)),
        objectsPerSec: Number((result.objects / seconds).toFixed(1)),
        retriesPerObject: Number((result.retries / objects).toFixed(3)),
        notAudited: result.notAudited,
        faultsInjected: Object.values(stats.faults).reduce((a, b) => a + b, 0),
        headRequestsPerObject: Number(((stats.requests['s3:HeadObject'] ?? 0) / objects).toFixed(3)),
      });
    }
    if (values.json) {
      console.log(JSON.stringify({ faults: { objects, concurrency, rates: figures } }));
    } else {
      console.log(`Re-scan of ${objects} objects at concurrency ${concurrency}, share of HeadObject/KMS/DynamoDB requests throttled:`);
      for (const f of figures) {
        console.log(
          `  ${String(f.rate * 100).padStart(3)}%: ${f.objectsPerSec} obj/s, ${f.retriesPerObject} deferred retries/object, ` +
            `${f.headRequestsPerObject} HeadObject requests/object, ${f.faultsInjected} faults, ${f.notAudited} not audited`,
        );
      }
    }
  } finally {
    await proxy.close();
    await emulator.stop();
  }
}

main().then(
  () => {
    process.exitCode = 0;
  },
  (error: unknown) => {
    console.error(`fault bench: error: ${(error as Error).message}`);
    process.exitCode = 2;
  },
);
