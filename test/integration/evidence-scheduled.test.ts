// The scheduled evidence pack (functions/evidence-pack.ts) on the emulator: the month before's pack,
// signed, written with conditional puts under a dated prefix of an evidence bucket with Object Lock
// default retention; every file carries its SHA-256 (what Object Lock requires of a PutObject, and
// what the manifest lists); the folder downloaded verifies offline; a rerun of the month seals
// nothing new and overwrites nothing; an answer lost in transit is not a second copy nor a failure.
//
// moto, like S3, refuses a PutObject into an Object Lock bucket without Content-MD5 or a checksum
// (MissingUploadObjectWithObjectLockHeaders) and applies the default retention. Gaps: it has no
// GetObjectRetention (GetObject's x-amz-object-lock-mode tells the retention applied), and it keeps
// the x-amz-checksum-sha256 given without checking it against the body (S3 checks it).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectLockConfigurationCommand,
} from '@aws-sdk/client-s3';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, inject, test, vi } from 'vitest';
import { handler } from '../../functions/evidence-pack.ts';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { evidencePackDependencies } from '../../functions/commons/evidence-pack-dependencies.ts';
import { stageSettings } from '../../stacks/settings.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { verifyPack, type Manifest } from '../../shared/evidence/integrity.ts';
import { monthBefore, sealMonthlyPack } from '../../shared/evidence/scheduled.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';

const emulator = inject('emulatorEndpoint');
const TABLE = 'evidence-scheduled-findings';
const EVIDENCE = 'evidence-scheduled-locked';
const clients = createAwsClients();
let signingKeyArn: string;
let proxy: FaultProxy;
const env = (endpoint = emulator, bucket = `${EVIDENCE}/packs`) => ({
  ...process.env,
  AWS_ENDPOINT_URL: endpoint,
  SSEGUARD_TABLE: TABLE,
  SSEGUARD_SWEEP_BUCKETS: 'evidence-scheduled-data',
  SSEGUARD_EVIDENCE_BUCKET: bucket,
  SSEGUARD_EVIDENCE_SIGNING_KEY: signingKeyArn,
});
const at = (iso: string) => () => new Date(iso);

async function keysUnder(prefix: string): Promise<string[]> {
  const { Contents } = await clients.s3.send(new ListObjectsV2Command({ Bucket: EVIDENCE, Prefix: prefix }));
  return (Contents ?? []).map((o) => o.Key!).sort();
}

/** Downloads a pack folder as an auditor would (aws s3 cp --recursive). */
async function download(prefix: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sseguard-evidence-downloaded-'));
  for (const key of await keysUnder(prefix)) {
    const { Body } = await clients.s3.send(new GetObjectCommand({ Bucket: EVIDENCE, Key: key }));
    const file = join(dir, key.slice(prefix.length));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, await Body!.transformToByteArray());
  }
  return dir;
}

const seal = async (month: string) => JSON.parse(await (await clients.s3.send(new GetObjectCommand({ Bucket: EVIDENCE, Key: `packs/${month}/SEALED.json` }))).Body!.transformToString()) as { pack: string; manifestSha256: string; keyId: string };

beforeAll(async () => {
  proxy = await startFaultProxy({ target: emulator, seed: 5 });
  const { KeyMetadata } = await clients.kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'evidence signing' }));
  signingKeyArn = KeyMetadata!.Arn!;
  await clients.s3.send(new CreateBucketCommand({ Bucket: EVIDENCE, ObjectLockEnabledForBucket: true }));
  await clients.s3.send(
    new PutObjectLockConfigurationCommand({ Bucket: EVIDENCE, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } } }),
  );
  await ensureFindingsTable(clients.dynamodb, TABLE);
  // Two objects audited in November; one fixed on December 2nd (after the month's end).
  const store = new DynamoFindingsStore(clients.documents, TABLE);
  const base = { bucket: 'evidence-scheduled-data', size: 10, reasons: [], remediate: false, etag: '"e"' };
  await store.record([
    { ...base, key: 'a.txt', mode: 'sse-s3', verdict: 'noncompliant', auditedAt: '2026-11-10T10:00:00.000Z' },
    { ...base, key: 'b.txt', mode: 'sse-s3', verdict: 'compliant', auditedAt: '2026-11-10T10:00:00.000Z' },
  ]);
  await store.record([{ ...base, key: 'a.txt', mode: 'sse-kms', kmsKeyArn: signingKeyArn, verdict: 'compliant', auditedAt: '2026-12-02T10:00:00.000Z' }]);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
});

describe('the scheduled evidence pack', () => {
  test('the month before is its month, as of its last millisecond', () => {
    expect(monthBefore(new Date('2026-12-01T00:15:00Z'))).toMatchObject({ month: '2026-11', asOf: new Date('2026-11-30T23:59:59.999Z') });
    expect(monthBefore(new Date('2027-01-01T00:15:00Z')).month).toBe('2026-12');
  });

  test('sealed into the Object Lock bucket under packs/2026-11/: every file retained and carrying its SHA-256; the folder verifies offline and shows November, not December\'s fix', async () => {
    const result = await sealMonthlyPack({ ...evidencePackDependencies(env()), clock: at('2026-12-01T00:15:00.000Z') });
    expect(result).toMatchObject({ status: 'sealed', month: '2026-11', asOf: '2026-11-30T23:59:59.999Z', folder: `s3://${EVIDENCE}/packs/2026-11/20261201T001500Z/` });
    const folder = 'packs/2026-11/20261201T001500Z/';
    const keys = await keysUnder(folder);
    for (const name of ['manifest.json', 'manifest.sig', 'public-key.pem', 'report.html', 'evidence.json', 'population.csv', 'history.jsonl']) expect(keys).toContain(`${folder}${name}`);
    const sealed = await seal('2026-11');
    expect(sealed).toMatchObject({ pack: folder, keyId: signingKeyArn });

    const dir = await download(folder);
    expect(await verifyPack(dir, { kms: clients.kms })).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    for (const file of manifest.files) {
      const object = await clients.s3.send(new GetObjectCommand({ Bucket: EVIDENCE, Key: `${folder}${file.name}`, ChecksumMode: 'ENABLED' }));
      expect(object.ChecksumSHA256, file.name).toBe(Buffer.from(file.sha256, 'hex').toString('base64'));
      await object.Body!.transformToByteArray();
      // The bucket's default retention applied (moto has no GetObjectRetention; GetObject tells it).
      expect(object.ObjectLockMode, file.name).toBe('GOVERNANCE');
    }
    const evidence = JSON.parse(readFileSync(join(dir, 'evidence.json'), 'utf8')) as { asOf: string; reconstructed: boolean; population: { byVerdict: Record<string, { objects: number }> } };
    expect(evidence).toMatchObject({ asOf: '2026-11-30T23:59:59.999Z', reconstructed: true });
    expect(evidence.population.byVerdict.noncompliant!.objects).toBe(1);
  });

  test('a rerun of the month overwrites nothing and seals nothing new: the month keeps its first pack', async () => {
    const before = await seal('2026-11');
    const rerun = await sealMonthlyPack({ ...evidencePackDependencies(env()), clock: at('2026-12-01T03:00:00.000Z') });
    expect(rerun).toMatchObject({ status: 'already-sealed', month: '2026-11' });
    expect(await seal('2026-11')).toEqual(before);
    expect(await verifyPack(await download(before.pack))).toEqual([]);
  });

  test('a PutObject whose answer is lost (the object was written) and a throttled one: retried, the pack seals once and verifies', async () => {
    proxy.setRules([
      { service: 's3', operation: 'PutObject', path: /report\.html$/, rate: 1, kind: 'lost-response', times: 1 },
      { service: 's3', operation: 'PutObject', path: /manifest\.json$/, rate: 1, kind: 'throttle', times: 2 },
    ]);
    const result = await sealMonthlyPack({ ...evidencePackDependencies(env(proxy.endpoint)), clock: at('2027-01-01T00:15:00.000Z') });
    expect(proxy.stats().faults).toMatchObject({ 's3:PutObject:lost-response': 1, 's3:PutObject:throttle': 2 });
    expect(result).toMatchObject({ status: 'sealed', month: '2026-12' });
    const sealed = await seal('2026-12');
    expect(await verifyPack(await download(sealed.pack), { kms: clients.kms })).toEqual([]);
  });

  test('the deployed handler (EventBridge Scheduler\'s event) seals the month before now, then answers already-sealed; the stage policy\'s exemptions are listed', async () => {
    const stubbed = { ...env(emulator, `${EVIDENCE}/handler`) };
    for (const name of ['AWS_ENDPOINT_URL', 'SSEGUARD_TABLE', 'SSEGUARD_SWEEP_BUCKETS', 'SSEGUARD_EVIDENCE_BUCKET', 'SSEGUARD_EVIDENCE_SIGNING_KEY'] as const) vi.stubEnv(name, stubbed[name]!);
    const policyFile = join(mkdtempSync(join(tmpdir(), 'sseguard-stage-policy-')), 'policy.yaml');
    writeFileSync(policyFile, 'version: 1\ndefault: { require: any }\nexemptions:\n  - bucket: evidence-scheduled-data\n    prefix: legacy/\n    reason: vendor holds the keys\n    owner: security@example.com\n    expires: 2030-01-31\n');
    vi.stubEnv('SSEGUARD_POLICY', policyFile);
    try {
      const context = localLambdaContext('EvidencePack');
      const month = monthBefore(new Date()).month;
      expect(await handler({ source: 'aws.scheduler' }, context)).toMatchObject({ status: 'sealed', month });
      expect(await handler({ source: 'aws.scheduler' }, context)).toMatchObject({ status: 'already-sealed', month });
      expect(await keysUnder(`handler/${month}/`)).toContain(`handler/${month}/SEALED.json`);
      const sealed = JSON.parse(await (await clients.s3.send(new GetObjectCommand({ Bucket: EVIDENCE, Key: `handler/${month}/SEALED.json` }))).Body!.transformToString()) as { pack: string };
      const pack = JSON.parse(readFileSync(join(await download(`${sealed.pack.replace(/\/$/, '')}/`), 'evidence.json'), 'utf8')) as { exceptions: { exemptions: { prefix: string; owner: string }[] } };
      expect(pack.exceptions.exemptions).toEqual([expect.objectContaining({ prefix: 'legacy/', owner: 'security@example.com' })]);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  test('settings: no evidence bucket, or not a bucket name, is a clear error', () => {
    expect(() => evidencePackDependencies({ ...env(), SSEGUARD_EVIDENCE_BUCKET: '' })).toThrow(/SSEGUARD_EVIDENCE_BUCKET is not set/);
    expect(() => evidencePackDependencies(env(emulator, 'Not_A_Bucket/x'))).toThrow(/SSEGUARD_EVIDENCE_BUCKET: "Not_A_Bucket" is not a bucket name/);
    // At deploy time: kms:Sign is scoped to the key, so it must be an ARN; the function only with a bucket.
    const deploy = { SSEGUARD_EXISTING_BUCKETS: 'data-bucket' };
    expect(stageSettings('dev', { ...deploy, SSEGUARD_EVIDENCE_BUCKET: 'evidence-bucket', SSEGUARD_EVIDENCE_SIGNING_KEY: signingKeyArn }).evidencePack).toEqual({
      bucket: 'evidence-bucket', prefix: 'sseguard-evidence', signingKeyArn, schedule: 'cron(15 0 1 * ? *)',
    });
    expect(() => stageSettings('dev', { ...deploy, SSEGUARD_EVIDENCE_BUCKET: 'evidence-bucket', SSEGUARD_EVIDENCE_SIGNING_KEY: 'alias/evidence' })).toThrow(/SSEGUARD_EVIDENCE_SIGNING_KEY: "alias\/evidence" is not a KMS key ARN/);
    expect(() => stageSettings('dev', { ...deploy, SSEGUARD_EVIDENCE_SIGNING_KEY: signingKeyArn })).toThrow(/without SSEGUARD_EVIDENCE_BUCKET/);
    expect(() => stageSettings('dev', { ...deploy, SSEGUARD_EVIDENCE_BUCKET: 'data-bucket/packs' })).toThrow(/is a monitored bucket/);
    expect(stageSettings('dev', deploy).evidencePack).toBeUndefined();
  });
});
