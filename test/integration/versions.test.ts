// Versioned buckets: `scan --all-versions` audits every version. Noncurrent versions are findings
// of their own (versionId, isLatest false), counted apart in the summary and each key's blast
// radius; they are never the object's state and never copied in place; delete markers are known.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, expect, test } from 'vitest';
import { auditRequests } from '../../shared/audit/audit-batch.ts';
import { idempotentFix } from '../../shared/audit/idempotent-fix.ts';
import { createRemediator } from '../../shared/audit/remediator.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { parseMessageBody } from '../../shared/events/audit-queue-messages.ts';
import { createRuntime, scanDependencies } from '../../shared/runtime.ts';
import { SweepRuns } from '../../shared/findings/sweep-runs.ts';
import { sweep } from '../../shared/sweep/sweep.ts';
import { createBucket, createKey, enableVersioning, sseCHeaders, type TestKey } from '../support/aws-fixtures.ts';
import { runCli } from '../support/cli.ts';

const BUCKET = 'versioned-audit';
const dir = mkdtempSync(join(tmpdir(), 'sseguard-versions-'));
const writer = createAwsClients();
let key: TestKey;
let policyPath: string;
const versions: Record<string, string> = {};

interface JsonFinding {
  key: string;
  versionId: string | null;
  isLatest: boolean;
  mode: string | null;
  verdict: string;
  reasons: { code: string }[];
  remediation?: { outcome: string; action: string };
}

const sseguard = (args: string[]) => runCli(args, { SSEGUARD_TABLE: 'versions-findings' });

beforeAll(async () => {
  key = await createKey(writer, { rotation: true });
  await createBucket(writer, BUCKET);
  await enableVersioning(writer, BUCKET);
  const put = async (label: string, extra: Record<string, unknown>) => {
    const { VersionId } = await writer.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'doc.txt', Body: `${label} content`, ...extra }));
    versions[label] = VersionId!;
  };
  // Oldest first: SSE-C, then SSE-S3, then the compliant current version under the customer key.
  await put('sse-c', sseCHeaders);
  await put('sse-s3', { ServerSideEncryption: 'AES256' });
  await put('current', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn });
  // An object whose current version is a delete marker, and one that is plain and current.
  await writer.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'gone.txt', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn }));
  await writer.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'gone.txt' }));
  policyPath = join(dir, 'policy.yaml');
  writeFileSync(
    policyPath,
    `version: 1\ndefault:\n  require: sse-kms\n  kmsKeys: [${key.arn}]\n  remediate: true\n  target: { mode: sse-kms, kmsKey: ${key.arn}, bucketKey: false }\n`,
  );
  expect((await sseguard(['init'])).code).toBe(0);
});

test('scan --all-versions: every version a finding with versionId and isLatest; noncurrent SSE-C and SSE-S3 versions under a compliant current one are exposure, counted apart', async () => {
  // Without --all-versions the bucket looks clean: only the current version is seen.
  const current = await sseguard(['scan', '--bucket', BUCKET, '--policy', policyPath, '--json']);
  expect(current.code).toBe(0);

  const run = await sseguard(['scan', '--bucket', BUCKET, '--policy', policyPath, '--all-versions', '--json']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(1);
  const document = JSON.parse(run.stdout) as { findings: JsonFinding[]; summary: Record<string, unknown> };
  const doc = document.findings.filter((f) => f.key === 'doc.txt');
  const byVersion = Object.fromEntries(doc.map((f) => [f.versionId, { isLatest: f.isLatest, mode: f.mode, verdict: f.verdict }]));
  expect(byVersion).toEqual({
    [versions.current!]: { isLatest: true, mode: 'sse-kms', verdict: 'compliant' },
    [versions['sse-s3']!]: { isLatest: false, mode: 'sse-s3', verdict: 'noncompliant' },
    [versions['sse-c']!]: { isLatest: false, mode: 'sse-c', verdict: 'noncompliant' },
  });
  expect(document.summary).toMatchObject({
    objects: 1,
    verdicts: { compliant: 1 },
    // doc.txt's SSE-S3 and SSE-C versions, and gone.txt's version under its delete marker.
    noncurrent: { objects: 3, verdicts: { noncompliant: 2, compliant: 1 } },
    deleted: 1,
  });
  expect(document.findings.filter((f) => f.key === 'gone.txt').map((f) => f.isLatest)).toEqual([false]);

  // The recorded state is the current version; the summary counts the noncurrent ones apart.
  const report = await sseguard(['report', '--format', 'json', '--bucket', BUCKET]);
  const reported = JSON.parse(report.stdout) as { summary: { buckets: Record<string, { objects: number; noncurrent?: { objects: number } }> }; findings: JsonFinding[] };
  expect(reported.findings.map((f) => [f.key, f.versionId])).toEqual([['doc.txt', versions.current]]);
  expect(reported.summary.buckets[BUCKET]).toMatchObject({ objects: 1, noncurrent: { objects: 3 } });
}, 120_000);

test('remediation never copies a noncurrent version in place: SSE-S3 is updated in place by version id, SSE-C is never planned; the current content stays current', async () => {
  const run = await sseguard(['scan', '--bucket', BUCKET, '--policy', policyPath, '--all-versions', '--remediate', '--json']);
  expect(run.stderr).toBe('');
  const document = JSON.parse(run.stdout) as { findings: JsonFinding[] };
  const sseS3 = document.findings.find((f) => f.versionId === versions['sse-s3']);
  const sseC = document.findings.find((f) => f.versionId === versions['sse-c']);
  expect(sseS3).toMatchObject({ isLatest: false, mode: 'sse-kms', verdict: 'compliant', remediation: { action: 'update-encryption', outcome: 'fixed' } });
  // SSE-C cannot be re-encrypted without the customer's key: the policy's fix is never planned for it.
  expect(sseC).toMatchObject({ isLatest: false, verdict: 'noncompliant', reasons: expect.arrayContaining([{ code: 'sse-c-forbidden', message: expect.any(String) }]) });
  expect(sseC?.remediation).toBeUndefined();
  // No new version was written: a copy would have made old content current.
  const listed = await writer.s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: 'doc.txt' }));
  expect((listed.Versions ?? []).map((v) => v.VersionId).sort()).toEqual(Object.values(versions).sort());
  expect(listed.Versions?.find((v) => v.IsLatest)?.VersionId).toBe(versions.current);
}, 120_000);

test('a sweep of every version (SSEGUARD_SWEEP_ALL_VERSIONS) pages versions and delete markers to the worker, which audits each version and counts noncurrent ones apart', async () => {
  const bucket = 'versioned-sweep';
  await createBucket(writer, bucket);
  await enableVersioning(writer, bucket);
  await writer.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a.txt', Body: 'old', ...sseCHeaders }));
  await writer.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a.txt', Body: 'new', ServerSideEncryption: 'AES256' }));
  await writer.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b.txt', Body: 'b', ServerSideEncryption: 'AES256' }));
  await writer.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'b.txt' }));

  const config = loadConfig({ ...process.env, SSEGUARD_TABLE: 'versions-findings', SSEGUARD_SWEEP_ALL_VERSIONS: 'true' });
  expect(config.sweepAllVersions).toBe(true);
  const runtime = createRuntime(config);
  const sent: string[] = [];
  const outcome = await sweep(
    {
      lister: { page: (b, token) => runtime.objects.versionPage(b, token) },
      queue: { sendToAuditQueue: async (bodies) => void sent.push(...bodies) },
      runs: new SweepRuns(runtime.clients.documents, config.table),
      buckets: async () => [bucket],
    },
    { shouldStop: () => false },
  );
  expect(outcome).toMatchObject({ status: 'finished', objectsEnqueued: 4 });

  const deps = { ...(await scanDependencies(runtime)), store: runtime.store };
  for (const body of sent) {
    const parsed = parseMessageBody(body);
    if (parsed.kind !== 'audit') throw new Error(parsed.kind === 'invalid' || parsed.kind === 'ignore' ? parsed.reason : 'not audited');
    expect((await auditRequests(deps, parsed.requests)).transient).toEqual([]);
  }
  const summary = await runtime.store.summary();
  // a.txt is current and compliant; its SSE-C version and b.txt's version under the marker are noncurrent.
  expect(summary.buckets[bucket]).toMatchObject({ objects: 1, verdicts: { compliant: 1 }, noncurrent: { objects: 2, verdicts: { noncompliant: 1, compliant: 1 } } });
}, 120_000);

test('a fix record only describes the version it changed: after a copy fix makes the DSSE version noncurrent, scan --all-versions --remediate reports it blocked, with its own version id, never fixed', async () => {
  const bucket = 'versioned-dsse-fix';
  await createBucket(writer, bucket);
  await enableVersioning(writer, bucket);
  const { VersionId: dsseVersion } = await writer.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'ledger.csv', Body: 'ledger', ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: key.arn }),
  );
  // The copy fix writes a new current version under the target; the DSSE version becomes noncurrent.
  const fixCurrent = await sseguard(['scan', '--bucket', bucket, '--policy', policyPath, '--remediate', '--json']);
  expect(fixCurrent.code).toBe(0);
  const current = (JSON.parse(fixCurrent.stdout) as { findings: JsonFinding[] }).findings.find((f) => f.key === 'ledger.csv');
  expect(current).toMatchObject({ isLatest: true, mode: 'sse-kms', verdict: 'compliant', remediation: { action: 'copy', outcome: 'fixed' } });
  expect(current?.versionId).not.toBe(dsseVersion);

  // The dry run already says it: the noncurrent DSSE version needs a copy, which would make it current.
  const dryRun = await sseguard(['scan', '--bucket', bucket, '--policy', policyPath, '--all-versions', '--dry-run']);
  expect(dryRun.stdout).toMatch(/blocked-noncurrent-version/);

  const run = await sseguard(['scan', '--bucket', bucket, '--policy', policyPath, '--all-versions', '--remediate', '--json']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(1);
  const findings = (JSON.parse(run.stdout) as { findings: JsonFinding[] }).findings.filter((f) => f.key === 'ledger.csv');
  // One finding per version, each carrying its own version id.
  expect(findings.map((f) => f.versionId).sort()).toEqual([current!.versionId, dsseVersion].sort());
  const noncurrent = findings.find((f) => !f.isLatest);
  expect(noncurrent).toMatchObject({ versionId: dsseVersion, mode: 'dsse-kms', verdict: 'noncompliant', remediation: { outcome: 'blocked-noncurrent-version' } });
  const head = await writer.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ledger.csv', VersionId: dsseVersion }));
  expect(head.ServerSideEncryption).toBe('aws:kms:dsse');

  const text = await sseguard(['scan', '--bucket', bucket, '--policy', policyPath, '--all-versions', '--remediate']);
  expect(text.code).toBe(1);
  expect(text.stdout).not.toMatch(/fixed 1/);
}, 120_000);

test('a replayed fix that wrote another version is never this version\'s state: the copy deleted, the DSSE version current again is reported as it is, not fixed', async () => {
  const bucket = 'versioned-dsse-restored';
  await createBucket(writer, bucket);
  await enableVersioning(writer, bucket);
  const { VersionId: dsseVersion } = await writer.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'ledger.csv', Body: 'ledger', ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: key.arn }),
  );
  const fixed = await sseguard(['scan', '--bucket', bucket, '--policy', policyPath, '--remediate', '--json']);
  const copy = (JSON.parse(fixed.stdout) as { findings: JsonFinding[] }).findings.find((f) => f.key === 'ledger.csv');
  expect(copy).toMatchObject({ verdict: 'compliant', remediation: { action: 'copy', outcome: 'fixed' } });
  // The copy is deleted for good: the DSSE version is current again, with the fix's record still kept.
  await writer.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'ledger.csv', VersionId: copy!.versionId! }));

  const run = await sseguard(['scan', '--bucket', bucket, '--policy', policyPath, '--remediate', '--json']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(1);
  const finding = (JSON.parse(run.stdout) as { findings: JsonFinding[] }).findings.find((f) => f.key === 'ledger.csv');
  expect(finding).toMatchObject({ versionId: dsseVersion, mode: 'dsse-kms', verdict: 'noncompliant' });
  expect(finding?.remediation?.outcome).not.toBe('fixed');
  expect((await writer.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ledger.csv' }))).ServerSideEncryption).toBe('aws:kms:dsse');
}, 120_000);

test('the worker, asked by a sweep of every version about the DSSE version a copy fix left noncurrent, records it blocked with its own version id, never fixed', async () => {
  const bucket = 'versioned-dsse-worker';
  await createBucket(writer, bucket);
  await enableVersioning(writer, bucket);
  const { VersionId: dsseVersion } = await writer.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'ledger.csv', Body: 'ledger', ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: key.arn }),
  );
  // The CLI's copy fix leaves its record in the idempotency table the worker shares.
  expect((await sseguard(['scan', '--bucket', bucket, '--policy', policyPath, '--remediate'])).code).toBe(0);

  const config = loadConfig({ ...process.env, SSEGUARD_TABLE: 'versions-findings' });
  const runtime = createRuntime(config);
  const audit = await scanDependencies(runtime, policyPath);
  const { fixOnce } = idempotentFix(runtime.clients.dynamodb, config.idempotencyTable);
  const deps = { ...audit, store: runtime.store, remediator: createRemediator({ ...audit, s3: runtime.clients.s3, fixOnce, fixLog: runtime.store }) };
  const { recorded, transient } = await auditRequests(deps, [
    { bucket, key: 'ledger.csv', size: 6, versionId: dsseVersion!, isLatest: false, exactVersion: true, source: 'sweep' },
  ]);
  expect(transient).toEqual([]);
  expect(recorded).toEqual([
    expect.objectContaining({ versionId: dsseVersion, isLatest: false, mode: 'dsse-kms', verdict: 'noncompliant', remediation: expect.objectContaining({ outcome: 'blocked-noncurrent-version' }) }),
  ]);
  expect((await runtime.store.summary()).buckets[bucket]).toMatchObject({ objects: 1, verdicts: { compliant: 1 }, noncurrent: { objects: 1, verdicts: { noncompliant: 1 } } });
}, 120_000);
