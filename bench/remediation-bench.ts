// Remediation throughput: seeds objects that the policy says to fix — SSE-S3 objects fixed by
// UpdateObjectEncryption (no data moved) and DSSE-KMS objects fixed by an in-place CopyObject —
// then times `scan --remediate` as the product runs it (audit, fix once, audit again, record), per
// path, on a private emulator. Prints fixed objects/s, MB/s copied and API calls per fixed object.
//   npx tsx bench/remediation-bench.ts [--objects N] [--size BYTES] [--concurrency C] [--json]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { freePort, startEmulator, useEmulator } from '../cli/emulator-process.ts';
import { localLambdaContext } from '#commons/lambda-context.ts';
import { idempotentFix } from '#shared/audit/idempotent-fix.ts';
import { createRemediator } from '#shared/audit/remediator.ts';
import { scanBucket } from '#shared/audit/scan.ts';
import { countCalls } from '#shared/aws/call-counter.ts';
import { loadConfig } from '#shared/config.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '#shared/findings/dynamodb-store.ts';
import { createRuntime, scanDependencies } from '#shared/runtime.ts';

const HELP = `Usage: npx tsx bench/remediation-bench.ts [--objects N] [--size BYTES] [--concurrency C] [--json]
Seeds N objects (half SSE-S3, fixed by UpdateObjectEncryption; half DSSE-KMS, fixed by an in-place
CopyObject) of BYTES each on a private emulator, then times \`scan --remediate\` on each half.
  --objects N       objects to seed, split between the two paths (default 400)
  --size BYTES      body size (default 65536)
  --concurrency C   scan concurrency (default 16)
  --json            print one JSON object as the last line`;

const BUCKET = 'bench-remediation';
const PATHS = { 'update-encryption': 'update/', copy: 'copy/' } as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      objects: { type: 'string', default: '400' },
      size: { type: 'string', default: '65536' },
      concurrency: { type: 'string', default: '16' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const objects = Number(values.objects);
  const size = Number(values.size);
  const concurrency = Number(values.concurrency);
  for (const [name, value] of Object.entries({ objects, size, concurrency })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
  }

  const emulator = await startEmulator({ port: await freePort() });
  const stop = () => void emulator.stop();
  process.once('SIGINT', stop);
  try {
    useEmulator(emulator.endpoint, { SSEGUARD_TABLE: 'bench-remediation-findings' });
    const seedRuntime = createRuntime(loadConfig(), { maxSockets: 32 });
    const { clients, config } = seedRuntime;
    await ensureFindingsTable(clients.dynamodb, config.table);
    await ensureIdempotencyTable(clients.dynamodb, config.idempotencyTable);
    const { KeyMetadata } = await clients.kms.send(new CreateKeyCommand({ Description: 'bench target' }));
    const target = KeyMetadata!.Arn!;
    await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const body = randomBytes(size);
    const half = Math.ceil(objects / 2);
    console.error(`bench: seeding ${objects} objects of ${size} bytes…`);
    for (let i = 0; i < objects; i += 32) {
      await Promise.all(
        Array.from({ length: Math.min(32, objects - i) }, (_, j) => {
          const index = i + j;
          const copy = index >= half;
          return clients.s3.send(
            new PutObjectCommand({
              Bucket: BUCKET,
              Key: `${copy ? PATHS.copy : PATHS['update-encryption']}${String(index).padStart(6, '0')}`,
              Body: body,
              ...(copy ? { ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: target } : { ServerSideEncryption: 'AES256' }),
            }),
          );
        }),
      );
    }
    const dir = mkdtempSync(join(tmpdir(), 'sseguard-bench-'));
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, `version: 1\ndefault: { require: sse-kms, kmsKeys: [${target}], remediate: true }\n`);

    const results: Record<string, unknown> = {};
    for (const [path, prefix] of Object.entries(PATHS)) {
      const runtime = createRuntime(loadConfig(), { maxSockets: concurrency });
      const calls = countCalls(runtime.clients, runtime.regional);
      const deps = await scanDependencies(runtime, policy);
      const { fixOnce, registerLambdaContext } = idempotentFix(runtime.clients.dynamodb, runtime.config.idempotencyTable);
      registerLambdaContext(localLambdaContext('bench'));
      const outcomes: Record<string, number> = {};
      let bytesCopied = 0;
      const remediate = createRemediator({
        ...deps,
        s3: runtime.clients.s3,
        fixOnce,
        onOutcome: (outcome) => {
          outcomes[outcome.outcome] = (outcomes[outcome.outcome] ?? 0) + 1;
          if (outcome.outcome === 'fixed' && outcome.plan.action !== 'update-encryption') bytesCopied += 'size' in outcome.plan ? Number(outcome.plan.size) : 0;
        },
      });
      const started = performance.now();
      const scan = await scanBucket({ ...deps, remediator: remediate }, { bucket: BUCKET, prefix, concurrency });
      const seconds = (performance.now() - started) / 1000;
      const fixed = outcomes.fixed ?? 0;
      const perObject = Object.fromEntries(Object.entries(calls).map(([op, n]) => [op, Number((n / Math.max(fixed, 1)).toFixed(3))]));
      results[path] = {
        objects: scan.objects,
        fixed,
        outcomes,
        seconds: Number(seconds.toFixed(2)),
        fixedPerSec: Number((fixed / seconds).toFixed(1)),
        mbCopiedPerSec: Number((bytesCopied / 1e6 / seconds).toFixed(2)),
        callsPerFixedObject: perObject,
        verdictsAfter: scan.verdicts,
      };
      console.error(
        `bench: ${path.padEnd(17)} ${fixed}/${scan.objects} fixed in ${seconds.toFixed(2)} s = ${(fixed / seconds).toFixed(1)} objects/s, ` +
          `${(bytesCopied / 1e6 / seconds).toFixed(2)} MB/s copied, concurrency ${concurrency}`,
      );
      console.error(`bench:   calls per fixed object: ${Object.entries(perObject).map(([op, n]) => `${op} ${n}`).join(', ')}`);
    }
    const summary = { objects, size, concurrency, remediation: results };
    console.log(values.json ? JSON.stringify(summary) : JSON.stringify(summary, null, 2));
  } finally {
    await emulator.stop();
  }
}

// exitCode, not process.exit: what was written to a piped stdout or stderr drains first.
main().catch((error: unknown) => {
  console.error(`bench: error: ${(error as Error).message}`);
  process.exitCode = 2;
});
