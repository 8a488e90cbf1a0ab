// The evidence pack's AWS calls under injected faults (AWS's own throttling and 5xx answers, through
// the fault proxy): KMS GetPublicKey and Sign are retried and the pack still verifies; a sample whose
// HeadObjects keep failing records "could not check", never a match or a mismatch.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { scanDependencies, createRuntime, type Runtime } from '../../shared/runtime.ts';
import { loadConfig } from '../../shared/config.ts';
import { gatherEvidenceInputs } from '../../shared/evidence/gather.ts';
import { kmsSigner, verifyPack, writePack } from '../../shared/evidence/integrity.ts';
import { populationObjects } from '../../shared/evidence/pack.ts';
import { checkSample } from '../../shared/evidence/sample.ts';
import { ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { scanBucket } from '../../shared/audit/scan.ts';
import { createBucket, putObject } from '../support/aws-fixtures.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';

const emulator = inject('emulatorEndpoint');
const TABLE = 'evidence-faults';
let proxy: FaultProxy;
let direct: Runtime;
let faulty: Runtime;

const runtimeAt = (endpoint: string): Runtime => createRuntime(loadConfig({ ...process.env, AWS_ENDPOINT_URL: endpoint, SSEGUARD_TABLE: TABLE }));

beforeAll(async () => {
  proxy = await startFaultProxy({ target: emulator, seed: 11 });
  direct = runtimeAt(emulator);
  faulty = runtimeAt(proxy.endpoint);
  await ensureFindingsTable(direct.clients.dynamodb, TABLE);
  await createBucket(direct.clients, 'evidence-weather');
  for (const key of ['a.txt', 'b.txt', 'c.txt']) await putObject(direct.clients, 'evidence-weather', key, { mode: 'sse-s3' });
  await scanBucket(await scanDependencies(direct), { bucket: 'evidence-weather', concurrency: 4 });
}, 120_000);

afterAll(async () => {
  await proxy?.close();
});

test('KMS GetPublicKey and Sign throttled, then a 5xx: retried, the pack is signed and verifies', async () => {
  const { KeyMetadata } = await direct.clients.kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
  proxy.setRules([
    { service: 'kms', operation: 'GetPublicKey', rate: 1, kind: 'throttle', times: 2 },
    { service: 'kms', operation: 'Sign', rate: 1, kind: 'server-error', times: 2 },
  ]);
  const dir = join(mkdtempSync(join(tmpdir(), 'sseguard-evidence-faults-')), 'pack');
  await writePack(dir, { 'a.txt': 'a' }, { generatedAt: new Date().toISOString(), asOf: new Date().toISOString() }, kmsSigner(faulty.clients.kms, KeyMetadata!.KeyId!));
  const faults = proxy.stats().faults;
  expect(faults['kms:GetPublicKey:throttle']).toBe(2);
  expect(faults['kms:Sign:server-error']).toBe(2);
  // history.jsonl is not in this pack: the only problem is that one.
  expect(await verifyPack(dir, { kms: direct.clients.kms })).toEqual(['history.jsonl: missing from the pack']);
});

test('HeadObject failing with 5xx for the whole sample: every row "could not check", no match, no mismatch', async () => {
  proxy.setRules([{ service: 's3', operation: 'HeadObject', rate: 1, kind: 'server-error' }]);
  const inputs = await gatherEvidenceInputs({ documents: direct.clients.documents, tableName: TABLE, exemptions: [] });
  const deps = await scanDependencies(faulty);
  const now = new Date();
  const { objects } = populationObjects(inputs, { asOf: now, reconstructed: false, windowDays: 90, scope: { buckets: ['evidence-weather'] }, generatedAt: now });
  const sample = await checkSample(objects, objects.length, deps, 3, 5);
  expect(sample.rows).toHaveLength(3);
  expect(sample).toMatchObject({ matches: 0, mismatches: 0, couldNotCheck: 3 });
  proxy.setRules([]);
  const healthy = await checkSample(objects, objects.length, await scanDependencies(faulty), 3, 5);
  expect(healthy).toMatchObject({ matches: 3, mismatches: 0, couldNotCheck: 0 });
});
