// Bucket posture on the emulator: every combination of default encryption, KMS key state, bucket
// key, SSE-C blocking and bucket policy gives exactly the expected verdict; remediation merges the
// TLS deny keeping every existing statement byte-for-byte, and rollback restores what was there.
// moto applies conditional Deny statements to object requests unconditionally (emulator/README.md):
// buckets with such policies here hold no objects.
import { GetBucketEncryptionCommand, GetBucketPolicyCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, test } from 'vitest';
import { scanBucket } from '../../shared/audit/scan.ts';
import { loadConfig } from '../../shared/config.ts';
import type { Finding } from '../../shared/domain/finding.ts';
import { parsePolicy, type ResolvedPolicy } from '../../shared/domain/policy.ts';
import { ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { listPosture, postureSummary, PostureStore } from '../../shared/findings/posture-store.ts';
import { resolveKeys } from '../../shared/policy-loader.ts';
import { auditPosture, remediatePosture, type PostureDependencies } from '../../shared/posture/audit-posture.ts';
import { S3BucketInspector } from '../../shared/posture/bucket-inspector.ts';
import { statementTexts, TLS_DENY_SID } from '../../shared/posture/policy-merge.ts';
import { applyRollback, rollbackCommands } from '../../shared/posture/remediate.ts';
import { createRuntime, type Runtime } from '../../shared/runtime.ts';
import { createBucket, createKey, disableKey, putObject, scheduleDeletion, type TestKey } from '../support/aws-fixtures.ts';
import { putBucketPolicy, putClientSideObject, putDefaultEncryption } from '../support/posture-fixtures.ts';

let runtime: Runtime;
let keys: Record<'enabled' | 'disabled' | 'pending', TestKey>;
let store: PostureStore;

const arn = (bucket: string) => `arn:aws:s3:::${bucket}`;
const unrelated = (bucket: string) => ({
  Sid: 'ReadForAnalytics',
  Effect: 'Allow',
  Principal: { AWS: 'arn:aws:iam::123456789012:role/analytics' },
  Action: ['s3:GetObject', 's3:ListBucket'],
  Resource: [arn(bucket), `${arn(bucket)}/*`],
});
const tlsDeny = (bucket: string, secureTransport: string | boolean, principal: unknown = '*') => ({
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: principal,
  Action: 's3:*',
  Resource: [arn(bucket), `${arn(bucket)}/*`],
  Condition: { Bool: { 'aws:SecureTransport': secureTransport } },
});
const document = (...statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, 2);

async function policyFrom(yaml: string): Promise<ResolvedPolicy> {
  return resolveKeys(parsePolicy(yaml, 'test policy'), runtime.keys, 'test policy');
}
function deps(policy: ResolvedPolicy): PostureDependencies {
  return { buckets: new S3BucketInspector(runtime.clients.s3, runtime.keys, 'us-east-1'), policy, store };
}

beforeAll(async () => {
  runtime = createRuntime(loadConfig());
  await ensureFindingsTable(runtime.clients.dynamodb, runtime.config.table);
  store = new PostureStore(runtime.clients.documents, runtime.config.table);
  keys = {
    enabled: await createKey(runtime.clients),
    disabled: await createKey(runtime.clients),
    pending: await createKey(runtime.clients),
  };
});

describe('every combination gives exactly the expected verdict', () => {
  type Setup = { encryption?: Parameters<typeof putDefaultEncryption>[2]; policy?: (bucket: string) => string };
  const cases: [string, Setup, string, string[]][] = [
    ['never configured (S3 default SSE-S3), TLS deny', { policy: (b) => document(tlsDeny(b, 'false')) }, 'noncompliant', ['bucket-default-mode-not-allowed']],
    ['SSE-S3 default, TLS deny', { encryption: { mode: 'sse-s3' }, policy: (b) => document(tlsDeny(b, 'false')) }, 'noncompliant', ['bucket-default-mode-not-allowed']],
    ['SSE-KMS enabled key, bucket key on, TLS deny', { encryption: { mode: 'sse-kms', key: undefined, bucketKey: true }, policy: (b) => document(tlsDeny(b, 'false')) }, 'compliant', []],
    ['SSE-KMS enabled key, bucket key off, TLS deny', { encryption: { mode: 'sse-kms', key: undefined, bucketKey: false }, policy: (b) => document(tlsDeny(b, 'false')) }, 'noncompliant', ['bucket-default-bucket-key-disabled']],
    ['SSE-KMS disabled key', { encryption: { mode: 'sse-kms', key: undefined, bucketKey: true }, policy: (b) => document(tlsDeny(b, 'false')) }, 'at-risk', ['kms-key-disabled']],
    ['SSE-KMS key pending deletion', { encryption: { mode: 'sse-kms', key: undefined, bucketKey: true }, policy: (b) => document(tlsDeny(b, 'false')) }, 'at-risk', ['kms-key-pending-deletion']],
    ['SSE-KMS, no bucket policy', { encryption: { mode: 'sse-kms', key: undefined, bucketKey: true } }, 'noncompliant', ['tls-not-required']],
    ['SSE-KMS, only unrelated statements', { encryption: { mode: 'sse-kms', key: undefined, bucketKey: true }, policy: (b) => document(unrelated(b)) }, 'noncompliant', ['tls-not-required']],
    ['SSE-KMS, TLS deny (string "false") among unrelated statements', { encryption: { mode: 'sse-kms', key: undefined, bucketKey: true }, policy: (b) => document(unrelated(b), tlsDeny(b, 'false')) }, 'compliant', []],
    ['SSE-KMS, TLS deny (boolean false), Principal {"AWS": "*"}', { encryption: { mode: 'sse-kms', key: undefined, bucketKey: true }, policy: (b) => document(tlsDeny(b, false, { AWS: '*' })) }, 'compliant', []],
    ['SSE-KMS, SecureTransport "true" deny (the wrong way round)', { encryption: { mode: 'sse-kms', key: undefined, bucketKey: true }, policy: (b) => document(tlsDeny(b, 'true')) }, 'noncompliant', ['tls-not-required']],
  ];
  const keyFor = (name: string) => (name.includes('disabled') ? keys.disabled : name.includes('pending') ? keys.pending : keys.enabled);
  let policy: ResolvedPolicy;

  beforeAll(async () => {
    policy = await policyFrom(`
version: 1
default: { require: sse-kms, kmsKeys: [${keys.enabled.arn}, ${keys.disabled.arn}, ${keys.pending.arn}], bucketDefault: { bucketKey: required }, requireTls: true }
`);
  });

  test.each(cases.map(([name, setup, verdict, codes]) => [name, verdict, codes, setup] as const))('%s → %s %j', async (name, verdict, codes, setup) => {
    const bucket = `posture-${cases.findIndex((c) => c[0] === name)}`;
    await createBucket(runtime.clients, bucket);
    if (setup.encryption) {
      const encryption = setup.encryption.mode === 'sse-kms' ? { ...setup.encryption, key: keyFor(name) } : setup.encryption;
      await putDefaultEncryption(runtime.clients, bucket, encryption);
    }
    if (setup.policy) await putBucketPolicy(runtime.clients, bucket, setup.policy(bucket));
    // Keys go bad after the bucket was configured with them, as in life.
    if (name.includes('disabled')) await disableKey(runtime.clients, keys.disabled);
    if (name.includes('pending')) await scheduleDeletion(runtime.clients, keys.pending);

    // A fresh key cache: the keys' states changed after earlier cases looked them up.
    const { finding } = await auditPosture({ ...deps(policy), buckets: new S3BucketInspector(runtime.clients.s3, createRuntime(loadConfig()).keys, 'us-east-1') }, bucket);
    expect({ verdict: finding.verdict, codes: finding.reasons.map((r) => r.code) }).toEqual({ verdict, codes });
  });
});

describe('SSE-C blocking', () => {
  test.each([
    ['blocked', ['SSE-C'] as const, 'compliant', []],
    ['explicitly allowed (NONE)', ['NONE'] as const, 'noncompliant', ['sse-c-not-blocked']],
    ['not returned by GetBucketEncryption', undefined, 'unauditable', ['sse-c-blocking-unknown']],
  ])('%s → %s', async (name, blocked, verdict, codes) => {
    const bucket = `ssec-${name.split(' ')[0]}`;
    await createBucket(runtime.clients, bucket);
    await putDefaultEncryption(runtime.clients, bucket, { mode: 'sse-s3' }, blocked ? [...blocked] : undefined);
    const { finding } = await auditPosture(deps(await policyFrom('version: 1\ndefault: { blockSseC: true }')), bucket);
    expect({ verdict: finding.verdict, codes: finding.reasons.map((r) => r.code), sseC: finding.sseC }).toEqual({
      verdict,
      codes,
      sseC: blocked ? (blocked[0] === 'SSE-C' ? 'blocked' : 'allowed') : 'unknown',
    });
  });
});

describe('remediation: merge, record, roll back', () => {
  const BUCKET = 'fix-me';
  let original: string;
  let fixing: ResolvedPolicy;

  beforeAll(async () => {
    await createBucket(runtime.clients, BUCKET);
    original = document(unrelated(BUCKET), { Sid: 'NoDelete', Effect: 'Deny', Principal: '*', Action: 's3:DeleteBucket', Resource: arn(BUCKET) });
    await putBucketPolicy(runtime.clients, BUCKET, original);
    fixing = await policyFrom(`
version: 1
default:
  require: sse-kms
  kmsKeys: [${keys.enabled.arn}]
  bucketKey: required
  bucketDefault: {}
  requireTls: true
  blockSseC: true
  remediate: true
  target: { mode: sse-kms, kmsKey: ${keys.enabled.arn}, bucketKey: true }
`);
  });

  const readPolicy = async () => (await runtime.clients.s3.send(new GetBucketPolicyCommand({ Bucket: BUCKET }))).Policy!;
  const readEncryption = async () => (await runtime.clients.s3.send(new GetBucketEncryptionCommand({ Bucket: BUCKET }))).ServerSideEncryptionConfiguration;

  test('--dry-run shows the exact policy diff and changes nothing', async () => {
    const before = await readEncryption();
    const outcome = await remediatePosture({ ...deps(fixing), s3: runtime.clients.s3 }, BUCKET, { dryRun: true });
    expect(outcome.withheld).toBe('dry run');
    const policyChange = outcome.plan.changes.find((c) => c.kind === 'bucket-policy');
    expect(policyChange?.kind === 'bucket-policy' && policyChange.diff).toContain(`+ `);
    expect(policyChange?.kind === 'bucket-policy' && policyChange.diff.split('\n').filter((l) => l.startsWith('+ ')).join('\n')).toContain(TLS_DENY_SID);
    expect(await readPolicy()).toBe(original);
    expect(await readEncryption()).toEqual(before);
  });

  test('remediate: default set to the target with bucket key, SSE-C blocked, TLS deny merged keeping every statement byte-for-byte', async () => {
    const encryptionBefore = await readEncryption();
    const outcome = await remediatePosture({ ...deps(fixing), s3: runtime.clients.s3 }, BUCKET, { dryRun: false });
    expect(outcome.audit.finding.verdict).toBe('noncompliant');
    expect(outcome.result?.refused).toEqual([]);
    expect(outcome.result?.applied.map((c) => c.kind)).toEqual(['default-encryption', 'bucket-policy']);
    expect(outcome.after?.finding).toMatchObject({ verdict: 'compliant', tls: 'enforced', sseC: 'blocked' });

    const merged = await readPolicy();
    const before = statementTexts(original);
    const after = statementTexts(merged);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after).toHaveLength(before.length + 1);
    expect(JSON.parse(after[before.length]!)).toMatchObject({ Sid: TLS_DENY_SID, Effect: 'Deny', Principal: '*', Action: 's3:*' });
    expect(await readEncryption()).toEqual({
      Rules: [
        {
          ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keys.enabled.arn },
          BucketKeyEnabled: true,
          BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
        },
      ],
    });

    // Every change is recorded with the value it replaced.
    const changes = await store.changes(BUCKET);
    expect(changes.map((c) => [c.kind, c.before])).toEqual([
      ['default-encryption', { Rules: encryptionBefore!.Rules }],
      ['bucket-policy', original],
    ]);
    expect(rollbackCommands(changes[1]!)).toContain(`aws s3api put-bucket-policy --bucket 'fix-me' --policy '`);

    // A second run has nothing left to do.
    const again = await remediatePosture({ ...deps(fixing), s3: runtime.clients.s3 }, BUCKET, { dryRun: false });
    expect(again.plan.changes).toEqual([]);
  });

  test('rollback restores the previous policy text and encryption exactly', async () => {
    const changes = await store.changes(BUCKET);
    const inspector = new S3BucketInspector(runtime.clients.s3, runtime.keys, 'us-east-1');
    for (const change of [...changes].reverse()) await applyRollback(runtime.clients.s3, inspector, change);
    expect(await readPolicy()).toBe(original);
    expect(await readEncryption()).toEqual(changes[0]!.before);
  });

  test('a rollback is refused when the value changed again since sseguard changed it', async () => {
    const [encryptionChange] = await store.changes(BUCKET);
    const inspector = new S3BucketInspector(runtime.clients.s3, runtime.keys, 'us-east-1');
    // The rollback above already restored it: the current value is no longer the change's "after".
    await expect(applyRollback(runtime.clients.s3, inspector, encryptionChange!)).rejects.toThrow(/changed after sseguard's change/);
  });

  test('a policy that cannot be parsed is refused and left untouched (the emulator stores text AWS would reject as MalformedPolicy)', async () => {
    const bucket = 'unparseable-policy';
    await createBucket(runtime.clients, bucket);
    await putBucketPolicy(runtime.clients, bucket, '{"Version": "2012-10-17", "Statement": [');
    const outcome = await remediatePosture({ ...deps(fixing), s3: runtime.clients.s3 }, bucket, { dryRun: false });
    expect(outcome.audit.finding.reasons.map((r) => r.code)).toContain('bucket-policy-invalid');
    expect(outcome.result?.refused).toEqual([{ kind: 'bucket-policy', reason: expect.stringContaining('cannot be parsed') }]);
    expect((await runtime.clients.s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy).toBe('{"Version": "2012-10-17", "Statement": [');
  });
});

describe('posture findings in the findings table', () => {
  test('each bucket has one current posture; counts per verdict come from the counters item', async () => {
    const all = await listPosture(store);
    const summary = await postureSummary(store);
    expect(summary.buckets).toBe(all.length);
    const byVerdict: Record<string, number> = {};
    for (const p of all) byVerdict[p.verdict] = (byVerdict[p.verdict] ?? 0) + 1;
    expect(summary.verdicts).toEqual(byVerdict);
    expect(new Set(all.map((p) => p.bucket)).size).toBe(all.length);
    const atRisk = await listPosture(store, { verdict: 'at-risk' });
    expect(atRisk.map((p) => p.bucket).sort()).toEqual(['posture-4', 'posture-5']);
    // Audited noncompliant (dry run, then before the fix: unchanged, one entry), compliant after it.
    expect((await store.history('fix-me')).map((h) => h.verdict)).toEqual(['noncompliant', 'compliant']);
  });
});

describe('client-side encryption', () => {
  const BUCKET = 'client-side';
  const scan = async (yaml: string) => {
    const findings: Finding[] = [];
    await scanBucket(
      { objects: runtime.objects, lister: runtime.objects, keys: runtime.keys, policy: await policyFrom(yaml) },
      { bucket: BUCKET, concurrency: 4, onFinding: (f) => void findings.push(f) },
    );
    return new Map(findings.map((f) => [f.key, f]));
  };

  beforeAll(async () => {
    await createBucket(runtime.clients, BUCKET);
    await putClientSideObject(runtime.clients, BUCKET, 'v1.bin', { 'x-amz-key': 'a2V5', 'x-amz-iv': 'aXY=', 'x-amz-matdesc': '{}' });
    await putClientSideObject(runtime.clients, BUCKET, 'v2.bin', {
      'x-amz-key-v2': 'a2V5',
      'x-amz-iv': 'aXY=',
      'x-amz-cek-alg': 'AES/GCM/NoPadding',
      'x-amz-wrap-alg': 'kms+context',
      'x-amz-tag-len': '128',
      'x-amz-matdesc': '{"aws:x-amz-cek-alg":"AES/GCM/NoPadding"}',
    });
    await putClientSideObject(runtime.clients, BUCKET, 'v3.bin', { 'x-amz-3': 'a2V5', 'x-amz-d': 'Yw==', 'x-amz-i': 'aQ==', 'x-amz-c': '115', 'x-amz-w': '12' });
    await putObject(runtime.clients, BUCKET, 'plain.txt', { mode: 'sse-s3' });
  });

  test('objects carrying the S3 Encryption Client envelope are classified client-side, with the algorithm', async () => {
    const byKey = await scan('version: 1');
    expect(Object.fromEntries([...byKey].map(([key, f]) => [key, [f.mode, f.verdict]]))).toEqual({
      'v1.bin': ['client-side', 'compliant'],
      'v2.bin': ['client-side', 'compliant'],
      'v3.bin': ['client-side', 'compliant'],
      'plain.txt': ['sse-s3', 'compliant'],
    });
    const inspection = await runtime.objects.inspect(BUCKET, { key: 'v2.bin', size: 48 });
    expect(inspection.status === 'read' && inspection.facts.clientSide).toEqual({
      envelope: 'v2',
      contentAlgorithm: 'AES/GCM/NoPadding',
      wrapAlgorithm: 'kms+context',
      materialDescription: '{"aws:x-amz-cek-alg":"AES/GCM/NoPadding"}',
      serverSideMode: 'sse-s3',
    });
  });

  test('policy can reject client-side encryption or its algorithm, and never plans a fix for it', async () => {
    const forbidden = await scan('version: 1\ndefault: { clientSide: { accept: forbidden } }');
    expect(forbidden.get('v2.bin')).toMatchObject({ verdict: 'noncompliant', remediate: false, reasons: [{ code: 'client-side-forbidden' }] });
    const gcmOnly = await scan('version: 1\ndefault: { clientSide: { accept: sufficient, algorithms: [AES/GCM/NoPadding, ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY] } }');
    expect([...gcmOnly].map(([key, f]) => [key, f.verdict]).sort()).toEqual([
      ['plain.txt', 'compliant'],
      ['v1.bin', 'noncompliant'],
      ['v2.bin', 'compliant'],
      ['v3.bin', 'compliant'],
    ]);
    expect(gcmOnly.get('v1.bin')?.reasons.map((r) => r.code)).toEqual(['client-side-algorithm-not-allowed']);
  });
});
