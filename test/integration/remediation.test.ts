// The remediation engine on the emulator: each fix path keeps every attribute and every byte; a write
// that races a fix is never overwritten; blocked objects are left alone with a reason; API calls per
// fixed object are counted by operation.
import { createHash } from 'node:crypto';
import {
  GetObjectAclCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Pluggable } from '@smithy/types';
import { describe, expect, inject, test } from 'vitest';
import { countCalls } from '../../shared/aws/call-counter.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { createAwsClients, type AwsClients } from '../../shared/aws/clients.ts';
import type { ObjectFacts } from '../../shared/domain/encryption.ts';
import { S3ObjectInspector } from '../../shared/inspect/object-inspector.ts';
import { checksumAlgorithmOf } from '../../shared/remediation/execute.ts';
import { remediateObject, type RemediationOptions, type RemediationTarget } from '../../shared/remediation/index.ts';
import { MIB } from '../../shared/remediation/fix-plan.ts';
import {
  createAclBucket,
  createBucket,
  createKey,
  createLockedBucket,
  enableVersioning,
  patternedBody,
  putObject,
  putRichObject,
  type TestKey,
  type WriteEncryption,
} from '../support/aws-fixtures.ts';

const writer = createAwsClients(); // the application that owns the objects (not counted)
const inspector = new S3ObjectInspector(writer.s3);
let bucketCounter = 0;
const bucketName = (label: string) => `rem-${label}-${process.pid}-${++bucketCounter}`;
const KEY = 'reports/2026 Q1+Q2 100% é.bin'; // space, +, %, unicode: CopySource must be encoded right
const RETAIN_UNTIL = new Date(Date.now() + 3 * 86_400_000);
const SMALL_MULTIPART: RemediationOptions = { multipartThresholdBytes: 5 * MIB, partSizeBytes: 5 * MIB };

/** A fresh client set whose S3 calls are counted by operation. */
function remediator() {
  const clients = createAwsClients();
  return { clients, calls: countCalls(clients) };
}

async function audit(bucket: string, key: string, versionId?: string): Promise<ObjectFacts> {
  const inspection = await inspector.inspect(bucket, { key, size: 0 }, versionId);
  if (inspection.status !== 'read') throw new Error(`cannot audit ${key}: ${inspection.detail}`);
  return inspection.facts;
}

/** Every attribute a fix must keep, and the content's hash, as S3 reports them. */
async function preserved(s3: S3Client, bucket: string, key: string, versionId?: string) {
  const v = versionId ? { VersionId: versionId } : {};
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED', ...v }));
  const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, ...v }));
  const acl = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: key, ...v }));
  const body = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...v }))).Body!.transformToByteArray());
  return {
    attributes: {
      metadata: head.Metadata,
      contentType: head.ContentType,
      cacheControl: head.CacheControl,
      contentEncoding: head.ContentEncoding,
      contentDisposition: head.ContentDisposition,
      contentLanguage: head.ContentLanguage,
      websiteRedirect: head.WebsiteRedirectLocation,
      storageClass: head.StorageClass ?? 'STANDARD',
      lockMode: head.ObjectLockMode,
      lockRetainUntil: head.ObjectLockRetainUntilDate?.toISOString(),
      legalHold: head.ObjectLockLegalHoldStatus,
      checksumAlgorithm: checksumAlgorithmOf(head),
      tags: [...(tags.TagSet ?? [])].sort((a, b) => (a.Key ?? '').localeCompare(b.Key ?? '')),
      grants: [...(acl.Grants ?? [])].map((g) => `${g.Grantee?.ID ?? g.Grantee?.URI}:${g.Permission}`).sort(),
      contentLength: head.ContentLength,
    },
    sha256: createHash('sha256').update(body).digest('hex'),
    body,
    encryption: { sse: head.ServerSideEncryption, key: head.SSEKMSKeyId, bucketKey: head.BucketKeyEnabled === true },
    etag: head.ETag,
    versionId: head.VersionId,
  };
}

interface FixCase {
  name: string;
  bucket: (clients: AwsClients, name: string) => Promise<unknown>;
  source: (keys: { a: TestKey; b: TestKey }) => WriteEncryption;
  target: (keys: { a: TestKey; b: TestKey }) => RemediationTarget;
  lock?: boolean;
  size: number;
  options?: RemediationOptions;
  action: string;
  calls: Record<string, number>;
}

const UPDATE_CALLS = { UpdateObjectEncryption: 1, HeadObject: 1 };
const COPY_CALLS = { HeadObject: 2, GetObjectAcl: 1, CopyObject: 1 };
const MULTIPART_CALLS = { HeadObject: 2, GetObjectAcl: 1, GetObjectTagging: 1, CreateMultipartUpload: 1, UploadPartCopy: 3, CompleteMultipartUpload: 1 };
// In a versioned bucket a copy first asks whether the audited version is still the current one.
const VERSIONED_COPY_CALLS = { ...COPY_CALLS, HeadObject: 3 };
const VERSIONED_MULTIPART_CALLS = { ...MULTIPART_CALLS, HeadObject: 3 };

// Objects here carry ACL grants: their buckets have ACLs enabled (ObjectWriter), as a user's would need.
const plainBucket = (clients: AwsClients, name: string) => createAclBucket(clients, name);
const versionedBucket = async (clients: AwsClients, name: string) => {
  await createAclBucket(clients, name);
  await enableVersioning(clients, name);
};

const FIX_CASES: FixCase[] = [
  { name: 'update-encryption: SSE-S3 → SSE-KMS', bucket: plainBucket, source: () => ({ mode: 'sse-s3' }), target: ({ b }) => ({ mode: 'sse-kms', kmsKey: b.arn, bucketKey: false }), size: 4096, action: 'update-encryption', calls: UPDATE_CALLS },
  { name: 'update-encryption: KMS key A → key B (versioned: same version id)', bucket: versionedBucket, source: ({ a }) => ({ mode: 'sse-kms', key: a }), target: ({ b }) => ({ mode: 'sse-kms', kmsKey: b.arn, bucketKey: false }), size: 4096, action: 'update-encryption', calls: UPDATE_CALLS },
  { name: 'update-encryption: bucket key off → on', bucket: plainBucket, source: ({ a }) => ({ mode: 'sse-kms', key: a, bucketKey: false }), target: ({ a }) => ({ mode: 'sse-kms', kmsKey: a.arn, bucketKey: true }), size: 4096, action: 'update-encryption', calls: UPDATE_CALLS },
  { name: 'copy: DSSE-KMS → SSE-KMS with bucket key', bucket: plainBucket, source: ({ a }) => ({ mode: 'dsse-kms', key: a }), target: ({ b }) => ({ mode: 'sse-kms', kmsKey: b.arn, bucketKey: true }), size: 70_000, action: 'copy', calls: COPY_CALLS },
  { name: 'copy: SSE-KMS → SSE-S3 (versioned)', bucket: versionedBucket, source: ({ a }) => ({ mode: 'sse-kms', key: a }), target: () => ({ mode: 'sse-s3', bucketKey: false }), size: 70_000, action: 'copy', calls: VERSIONED_COPY_CALLS },
  { name: 'copy: SSE-KMS → DSSE-KMS', bucket: plainBucket, source: ({ a }) => ({ mode: 'sse-kms', key: a }), target: ({ b }) => ({ mode: 'dsse-kms', kmsKey: b.arn, bucketKey: false }), size: 70_000, action: 'copy', calls: COPY_CALLS },
  { name: 'copy: SSE-S3 → SSE-KMS under governance retention + legal hold (UpdateObjectEncryption is denied there)', bucket: createLockedBucket, lock: true, source: () => ({ mode: 'sse-s3' }), target: ({ b }) => ({ mode: 'sse-kms', kmsKey: b.arn, bucketKey: false }), size: 70_000, action: 'copy', calls: VERSIONED_COPY_CALLS },
  { name: 'copy: DSSE-KMS → SSE-S3 under governance retention + legal hold', bucket: createLockedBucket, lock: true, source: ({ a }) => ({ mode: 'dsse-kms', key: a }), target: () => ({ mode: 'sse-s3', bucketKey: false }), size: 70_000, action: 'copy', calls: VERSIONED_COPY_CALLS },
  { name: 'multipart-copy: 12 MiB DSSE-KMS → SSE-KMS with bucket key, 5 MiB parts, governance retention + legal hold', bucket: createLockedBucket, lock: true, source: ({ a }) => ({ mode: 'dsse-kms', key: a }), target: ({ b }) => ({ mode: 'sse-kms', kmsKey: b.arn, bucketKey: true }), size: 12 * MIB, options: SMALL_MULTIPART, action: 'multipart-copy', calls: VERSIONED_MULTIPART_CALLS },
  { name: 'multipart-copy: 12 MiB SSE-KMS → SSE-S3, versioned', bucket: versionedBucket, source: ({ a }) => ({ mode: 'sse-kms', key: a }), target: () => ({ mode: 'sse-s3', bucketKey: false }), size: 12 * MIB, options: SMALL_MULTIPART, action: 'multipart-copy', calls: VERSIONED_MULTIPART_CALLS },
];

describe('each fix path keeps every attribute and every byte', () => {
  test.each(FIX_CASES)('$name', async (fix) => {
    const keys = { a: await createKey(writer), b: await createKey(writer) };
    const bucket = bucketName('fix');
    await fix.bucket(writer, bucket);
    const body = patternedBody(fix.size);
    const lock = fix.lock ? { ObjectLockMode: 'GOVERNANCE' as const, ObjectLockRetainUntilDate: RETAIN_UNTIL, ObjectLockLegalHoldStatus: 'ON' as const } : {};
    const written = await putRichObject(writer, bucket, KEY, body, fix.source(keys), lock);
    const before = await preserved(writer.s3, bucket, KEY, written.versionId);
    const facts = await audit(bucket, KEY, written.versionId);
    const target = fix.target(keys);

    const { clients, calls } = remediator();
    const outcome = await remediateObject({ s3: clients.s3 }, facts, target, fix.options);

    expect(outcome).toMatchObject({ outcome: 'fixed', plan: { action: fix.action } });
    expect(calls).toEqual(fix.calls);
    const after = await preserved(writer.s3, bucket, KEY, outcome.after?.versionId);
    expect(after.attributes).toEqual(before.attributes);
    expect(after.sha256).toBe(before.sha256);
    expect(after.body.equals(body)).toBe(true);
    expect(after.encryption).toEqual({
      sse: { 'sse-s3': 'AES256', 'sse-kms': 'aws:kms', 'dsse-kms': 'aws:kms:dsse' }[target.mode],
      key: target.kmsKey,
      bucketKey: target.bucketKey,
    });
    // before/after for the history: mode, key, version id, ETag as S3 reports them
    expect(outcome.before).toMatchObject({ mode: facts.mode, etag: before.etag, ...(written.versionId ? { versionId: written.versionId } : {}) });
    expect(outcome.after).toMatchObject({ mode: target.mode, etag: after.etag, bucketKeyEnabled: target.bucketKey, ...(target.kmsKey ? { kmsKeyArn: target.kmsKey } : {}) });
    if (fix.action === 'update-encryption') {
      // no data moved: same version, same ETag
      expect(after.versionId).toBe(before.versionId);
      expect(after.etag).toBe(before.etag);
    } else if (written.versionId) {
      expect(after.versionId).not.toBe(written.versionId);
      expect(outcome.notes.join(' ')).toContain(`version ${written.versionId} remains`);
    }
  });
});

/** Runs `action` once, just before the remediation client sends the first `commandName`. */
function beforeCommand(s3: S3Client, commandName: string, action: () => Promise<unknown>, { after = false } = {}) {
  let fired = false;
  const plugin: Pluggable<object, object> = {
    applyToStack(stack) {
      stack.add(
        (next, context) => async (args) => {
          if (fired || context.commandName !== commandName) return next(args);
          fired = true;
          if (!after) await action();
          const result = await next(args);
          if (after) await action();
          return result;
        },
        { step: 'initialize', name: 'raceInjector' },
      );
    },
  };
  (s3.middlewareStack as unknown as { use(p: Pluggable<object, object>): void }).use(plugin);
}

const NEW_BODY = Buffer.from('written by the application while sseguard was fixing the object');

describe('a write that races the fix is never overwritten', () => {
  test.each([
    ['unversioned, overwrite after the audit', plainBucket, 'HeadObjectCommand'],
    ['unversioned, overwrite just before CopyObject (CopySourceIfMatch fails)', plainBucket, 'CopyObjectCommand'],
    ['versioned, overwrite just before CopyObject (the audited version is unchanged: If-Match on the destination fails)', versionedBucket, 'CopyObjectCommand'],
  ] as const)('copy: %s', async (_name, makeBucket, raceBefore) => {
    const key = await createKey(writer);
    const bucket = bucketName('race');
    await makeBucket(writer, bucket);
    await putRichObject(writer, bucket, KEY, patternedBody(70_000), { mode: 'dsse-kms', key });
    const facts = await audit(bucket, KEY);
    const { clients, calls } = remediator();
    beforeCommand(clients.s3, raceBefore, () => putObject(writer, bucket, KEY, { mode: 'sse-s3' }, NEW_BODY.toString()));

    const outcome = await remediateObject({ s3: clients.s3 }, facts, { mode: 'sse-s3', bucketKey: false });

    expect(outcome).toMatchObject({ outcome: 'skipped-object-changed', cause: { status: 412 } });
    expect(outcome.after).toBeUndefined();
    const current = await preserved(writer.s3, bucket, KEY);
    expect(current.body.equals(NEW_BODY)).toBe(true);
    expect(calls.CopyObject ?? 0).toBeLessThanOrEqual(1);
    if (makeBucket === versionedBucket) {
      const versions = await writer.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
      expect(versions.Versions).toHaveLength(2); // the audited one and the application's: no third from sseguard
    }
  });

  test('versioned: a newer version with the same bytes (same ETag) written after the audit is not copied over: skipped, no third version', async () => {
    const key = await createKey(writer);
    const bucket = bucketName('race-same');
    await versionedBucket(writer, bucket);
    const body = patternedBody(4096);
    await putRichObject(writer, bucket, KEY, body, { mode: 'dsse-kms', key });
    const facts = await audit(bucket, KEY);
    // Another fixer whose lease ran out, or an application writing the same content: the ETag is unchanged.
    await putRichObject(writer, bucket, KEY, body, { mode: 'dsse-kms', key });
    const { clients, calls } = remediator();
    const outcome = await remediateObject({ s3: clients.s3 }, facts, { mode: 'sse-s3', bucketKey: false });
    expect(outcome).toMatchObject({ outcome: 'skipped-object-changed' });
    expect(calls.CopyObject ?? 0).toBe(0);
    const versions = await writer.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: KEY }));
    expect(versions.Versions).toHaveLength(2);
  });

  test.each([
    ['unversioned, overwrite after the first part (the next part fails)', plainBucket, 'UploadPartCopyCommand', true],
    ['versioned, overwrite just before CompleteMultipartUpload (every part read the unchanged version: If-Match fails)', versionedBucket, 'CompleteMultipartUploadCommand', false],
  ] as const)('multipart: %s → aborted, no parts left', async (_name, makeBucket, raceAt, afterIt) => {
    const key = await createKey(writer);
    const bucket = bucketName('race-mp');
    await makeBucket(writer, bucket);
    await putRichObject(writer, bucket, KEY, patternedBody(12 * MIB), { mode: 'dsse-kms', key });
    const facts = await audit(bucket, KEY);
    const { clients, calls } = remediator();
    beforeCommand(clients.s3, raceAt, () => putObject(writer, bucket, KEY, { mode: 'sse-s3' }, NEW_BODY.toString()), { after: afterIt });

    const outcome = await remediateObject({ s3: clients.s3 }, facts, { mode: 'sse-s3', bucketKey: false }, { ...SMALL_MULTIPART, partConcurrency: 1 });

    expect(outcome).toMatchObject({ outcome: 'skipped-object-changed', cause: { status: 412 } });
    expect(calls.AbortMultipartUpload).toBe(1);
    const uploads = await writer.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
    const current = await preserved(writer.s3, bucket, KEY);
    expect(current.body.equals(NEW_BODY)).toBe(true);
  });
});

describe('a fix whose answer was lost is made once', () => {
  // moto answers a repeated CompleteMultipartUpload of a finished upload as if it were the first;
  // AWS does not document what it answers. sseguard relies on neither: the key's current version decides.
  test.each([
    ['CopyObject (4 KiB DSSE-KMS → SSE-S3)', 'CopyObject', 4096, {}],
    ['CompleteMultipartUpload (12 MiB DSSE-KMS → SSE-S3, 5 MiB parts)', 'CompleteMultipartUpload', 12 * MIB, SMALL_MULTIPART],
  ] as const)('%s applied by S3, its answer lost: one new version, outcome fixed', async (_name, operation, size, options) => {
    const key = await createKey(writer);
    const bucket = bucketName('lost');
    await versionedBucket(writer, bucket);
    const body = patternedBody(size);
    await putRichObject(writer, bucket, KEY, body, { mode: 'dsse-kms', key });
    const facts = await audit(bucket, KEY);
    const proxy = await startFaultProxy({ target: inject('emulatorEndpoint'), rules: [{ service: 's3', operation, rate: 1, kind: 'lost-response', times: 1 }] });
    try {
      const clients = createAwsClients({ endpoint: proxy.endpoint });
      const outcome = await remediateObject({ s3: clients.s3 }, facts, { mode: 'sse-s3', bucketKey: false }, options);
      expect(proxy.stats().faults[`s3:${operation}:lost-response`]).toBe(1);
      expect(outcome).toMatchObject({ outcome: 'fixed', after: { mode: 'sse-s3' } });
      const versions = await writer.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: KEY }));
      expect(versions.Versions).toHaveLength(2); // the audited one and the fix: no second copy from a retry
      expect((await preserved(writer.s3, bucket, KEY)).body.equals(body)).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});

describe('blocked: no change, a reason and what a person must do', () => {
  test('SSE-C: never touched (0 API calls)', async () => {
    const bucket = bucketName('ssec');
    await createBucket(writer, bucket);
    await putObject(writer, bucket, KEY, { mode: 'sse-c' });
    const facts = await audit(bucket, KEY);
    const { clients, calls } = remediator();
    const outcome = await remediateObject({ s3: clients.s3 }, facts, { mode: 'sse-s3', bucketKey: false });
    expect(outcome).toMatchObject({ outcome: 'blocked-sse-c', instruction: expect.stringContaining('customer key') });
    expect(calls).toEqual({});
  });

  test('compliance-mode retention: never touched (0 API calls), the date is in the reason', async () => {
    const bucket = bucketName('compliance');
    await createLockedBucket(writer, bucket);
    const body = patternedBody(4096);
    await putRichObject(writer, bucket, KEY, body, { mode: 'sse-s3' }, { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: RETAIN_UNTIL });
    const facts = await audit(bucket, KEY);
    const { clients, calls } = remediator();
    const key = await createKey(writer);
    const outcome = await remediateObject({ s3: clients.s3 }, facts, { mode: 'sse-kms', kmsKey: key.arn, bucketKey: false });
    expect(outcome).toMatchObject({ outcome: 'blocked-object-lock-compliance', message: expect.stringContaining(RETAIN_UNTIL.toISOString().slice(0, 10)) });
    expect(calls).toEqual({});
    const versions = await writer.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    expect(versions.Versions).toHaveLength(1);
  });

  test('GLACIER object that needs a copy: blocked after one HeadObject shows it is not restored', async () => {
    const key = await createKey(writer);
    const bucket = bucketName('glacier');
    await createBucket(writer, bucket);
    await writer.s3.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: 'archived', StorageClass: 'GLACIER', ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: key.arn }));
    const facts = await audit(bucket, KEY);
    const { clients, calls } = remediator();
    const outcome = await remediateObject({ s3: clients.s3 }, facts, { mode: 'sse-s3', bucketKey: false });
    expect(outcome).toMatchObject({ outcome: 'blocked-archived', instruction: expect.stringMatching(/restore/i) });
    expect(calls).toEqual({ HeadObject: 1 });
    const head = await writer.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }));
    expect(head.ServerSideEncryption).toBe('aws:kms:dsse');
  });

  test('GLACIER object updated in place: UpdateObjectEncryption needs no restore', async () => {
    const key = await createKey(writer);
    const bucket = bucketName('glacier-update');
    await createBucket(writer, bucket);
    await writer.s3.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: 'archived', StorageClass: 'GLACIER' }));
    const facts = await audit(bucket, KEY);
    const { clients } = remediator();
    const outcome = await remediateObject({ s3: clients.s3 }, facts, { mode: 'sse-kms', kmsKey: key.arn, bucketKey: false });
    expect(outcome).toMatchObject({ outcome: 'fixed', plan: { action: 'update-encryption' } });
    expect((await writer.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }))).StorageClass).toBe('GLACIER');
  });

  test('fake at the S3 client boundary (moto enforces no IAM): CopyObject denied → blocked-access-denied with the permissions to grant, nothing written', async () => {
    const key = await createKey(writer);
    const bucket = bucketName('denied');
    await createAclBucket(writer, bucket);
    await putRichObject(writer, bucket, KEY, patternedBody(4096), { mode: 'dsse-kms', key });
    const facts = await audit(bucket, KEY);
    const { clients, calls } = remediator();
    const denied: Pluggable<object, object> = {
      applyToStack(stack) {
        stack.add(
          (next, context) => async (args) => {
            if (context.commandName !== 'CopyObjectCommand') return next(args);
            // The recorded shape of S3's 403 for CopyObject, as the SDK raises it.
            throw new S3ServiceException({
              name: 'AccessDenied',
              $fault: 'client',
              message: `User: arn:aws:sts::123456789012:assumed-role/sseguard-remediator/worker is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::${bucket}/${KEY}" because no identity-based policy allows the s3:PutObject action`,
              $metadata: { httpStatusCode: 403 },
            });
          },
          { step: 'initialize', name: 'recordedAccessDenied' },
        );
      },
    };
    (clients.s3.middlewareStack as unknown as { use(p: Pluggable<object, object>): void }).use(denied);
    const outcome = await remediateObject({ s3: clients.s3 }, facts, { mode: 'sse-s3', bucketKey: false });
    expect(outcome).toMatchObject({
      outcome: 'blocked-access-denied',
      message: expect.stringContaining('CopyObject was denied'),
      instruction: expect.stringContaining('s3:PutObject'),
      cause: { status: 403, name: 'AccessDenied' },
    });
    expect(calls).toEqual({ HeadObject: 1, GetObjectAcl: 1, CopyObject: 1 });
    expect((await writer.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }))).ServerSideEncryption).toBe('aws:kms:dsse');
  });
});

describe('report only', () => {
  test('dry run: the plan, no API calls', async () => {
    const key = await createKey(writer);
    const bucket = bucketName('dry');
    await createBucket(writer, bucket);
    await putObject(writer, bucket, KEY, { mode: 'sse-s3' });
    const facts = await audit(bucket, KEY);
    const { clients, calls } = remediator();
    const outcome = await remediateObject({ s3: clients.s3 }, facts, { mode: 'sse-kms', kmsKey: key.arn, bucketKey: true }, { dryRun: true });
    expect(outcome).toMatchObject({ outcome: 'planned', plan: { action: 'update-encryption', estimate: { bytesCopied: 0, kmsRequests: 0 } } });
    expect(calls).toEqual({});
    expect((await writer.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }))).ServerSideEncryption).toBe('AES256');
  });
});
