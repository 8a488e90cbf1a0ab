// Where UpdateObjectEncryption is not there (LocalStack answers 501; a partition may not offer it),
// the engine falls back to the conditional copy for current versions, says so once, and remembers
// it for the client so that later objects go straight to the copy. Noncurrent versions are never
// copied. The emulator implements UpdateObjectEncryption, so the 501 is injected at the SDK
// boundary: a raw HTTP response in the shape LocalStack sends, parsed by the SDK's own deserializer.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  GetObjectAclCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Pluggable } from '@smithy/types';
import { describe, expect, test } from 'vitest';
import { countCalls } from '../../shared/aws/call-counter.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import type { ObjectFacts } from '../../shared/domain/encryption.ts';
import { S3ObjectInspector } from '../../shared/inspect/object-inspector.ts';
import { remediateObject, type RemediationTarget } from '../../shared/remediation/index.ts';
import { createBucket, createKey, enableVersioning, patternedBody, putRichObject } from '../support/aws-fixtures.ts';

const writer = createAwsClients();
const inspector = new S3ObjectInspector(writer.s3);
let bucketCounter = 0;
const bucketName = (label: string) => `fallback-${label}-${process.pid}-${++bucketCounter}`;

// LocalStack's answer to an operation it does not emulate (HTTP 501, S3's XML error document).
const LOCALSTACK_NOT_IMPLEMENTED = `<?xml version='1.0' encoding='utf-8'?>
<Error><Code>NotImplemented</Code><Message>The API for service 's3' is either not included in your current license plan or has not yet been emulated by LocalStack. Please refer to https://docs.localstack.cloud/references/coverage for more details.</Message><RequestId>4f1b0a5c-8e39-4d7e-9d0c-2d1f0f6c7a11</RequestId></Error>`;

/** Answers every UpdateObjectEncryption with LocalStack's 501, below the SDK's deserializer; other calls go through. */
function answerUpdateObjectEncryptionWith501(s3: S3Client): void {
  const plugin: Pluggable<object, object> = {
    applyToStack(stack) {
      stack.add(
        (next, context) => async (args) => {
          if (context.commandName !== 'UpdateObjectEncryptionCommand') return next(args);
          // An HTTP response as the SDK's node handler returns it (the HttpResponse shape).
          const response = {
            statusCode: 501,
            reason: 'Not Implemented',
            headers: { 'content-type': 'application/xml', 'x-amz-request-id': '4f1b0a5c-8e39-4d7e-9d0c-2d1f0f6c7a11' },
            body: Readable.from([Buffer.from(LOCALSTACK_NOT_IMPLEMENTED)]),
          };
          return { response, output: undefined as never };
        },
        { step: 'deserialize', priority: 'low', name: 'localStackNotImplemented' },
      );
    },
  };
  (s3.middlewareStack as unknown as { use(p: Pluggable<object, object>): void }).use(plugin);
}

async function audit(bucket: string, key: string, versionId?: string): Promise<ObjectFacts> {
  const inspection = await inspector.inspect(bucket, { key, size: 0 }, versionId);
  if (inspection.status !== 'read') throw new Error(`cannot audit ${key}: ${inspection.detail}`);
  return inspection.facts;
}

/** Content, metadata, tags and ACL as S3 reports them, and the encryption. */
async function observed(bucket: string, key: string, versionId?: string) {
  const v = versionId ? { VersionId: versionId } : {};
  const head = await writer.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...v }));
  const tags = await writer.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, ...v }));
  const acl = await writer.s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: key, ...v }));
  const body = await (await writer.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...v }))).Body!.transformToByteArray();
  return {
    kept: {
      sha256: createHash('sha256').update(body).digest('hex'),
      metadata: head.Metadata,
      contentType: head.ContentType,
      cacheControl: head.CacheControl,
      contentDisposition: head.ContentDisposition,
      storageClass: head.StorageClass ?? 'STANDARD',
      tags: [...(tags.TagSet ?? [])].sort((a, b) => (a.Key ?? '').localeCompare(b.Key ?? '')),
      grants: [...(acl.Grants ?? [])].map((g) => `${g.Grantee?.ID ?? g.Grantee?.URI}:${g.Permission}`).sort(),
    },
    encryption: { sse: head.ServerSideEncryption, key: head.SSEKMSKeyId, bucketKey: head.BucketKeyEnabled === true },
  };
}

describe('UpdateObjectEncryption not available', () => {
  test('SSE-S3 → SSE-KMS falls back to the conditional copy, said once; the next object goes straight to the copy (501 injected at the SDK boundary, as LocalStack answers)', async () => {
    const key = await createKey(writer);
    const bucket = bucketName('copy');
    await createBucket(writer, bucket);
    const names = ['first.bin', 'second.bin'];
    for (const [i, name] of names.entries()) await putRichObject(writer, bucket, name, patternedBody(70_000, i + 1), { mode: 'sse-s3' });
    const before = await Promise.all(names.map((name) => observed(bucket, name)));
    const facts = await Promise.all(names.map((name) => audit(bucket, name)));
    const target: RemediationTarget = { mode: 'sse-kms', kmsKey: key.arn, bucketKey: true };

    const clients = createAwsClients();
    answerUpdateObjectEncryptionWith501(clients.s3);
    const calls = countCalls(clients);

    const first = await remediateObject({ s3: clients.s3 }, facts[0]!, target);
    expect(first).toMatchObject({ outcome: 'fixed', plan: { action: 'copy' } });
    expect(first.notes.join('\n')).toMatch(/UpdateObjectEncryption is not available on this endpoint \(NotImplemented \(HTTP 501\): .*not included in your current license plan/);
    expect({ ...calls }).toEqual({ UpdateObjectEncryption: 1, HeadObject: 2, GetObjectAcl: 1, CopyObject: 1 });

    const second = await remediateObject({ s3: clients.s3 }, facts[1]!, target);
    expect(second).toMatchObject({ outcome: 'fixed', plan: { action: 'copy' } });
    expect(second.notes.join('\n')).not.toContain('UpdateObjectEncryption');
    // No second UpdateObjectEncryption: the client's answer was remembered.
    expect(calls).toEqual({ UpdateObjectEncryption: 1, HeadObject: 4, GetObjectAcl: 2, CopyObject: 2 });

    for (const [i, name] of names.entries()) {
      const after = await observed(bucket, name);
      expect(after.kept, name).toEqual(before[i]!.kept);
      expect(after.encryption, name).toEqual({ sse: 'aws:kms', key: key.arn, bucketKey: true });
    }
  });

  test('a noncurrent version is never copied: blocked with the reason, nothing written (501 injected at the SDK boundary, as LocalStack answers)', async () => {
    const key = await createKey(writer);
    const bucket = bucketName('versions');
    await createBucket(writer, bucket);
    await enableVersioning(writer, bucket);
    const old = await putRichObject(writer, bucket, 'doc.bin', patternedBody(4096, 1), { mode: 'sse-s3' });
    const current = await putRichObject(writer, bucket, 'doc.bin', patternedBody(4096, 2), { mode: 'sse-s3' });
    const target: RemediationTarget = { mode: 'sse-kms', kmsKey: key.arn, bucketKey: false };

    const clients = createAwsClients();
    answerUpdateObjectEncryptionWith501(clients.s3);
    const calls = countCalls(clients);

    const noncurrent = await remediateObject({ s3: clients.s3 }, await audit(bucket, 'doc.bin', old.versionId), target);
    expect(noncurrent).toMatchObject({
      outcome: 'blocked-noncurrent-version',
      message: expect.stringContaining(`version ${old.versionId} is not the current version`),
      instruction: expect.stringContaining('lifecycle rule'),
    });
    expect(noncurrent.notes.join('\n')).toContain('UpdateObjectEncryption is not available');
    // The 501, then one HeadObject to learn the current version: no copy.
    expect({ ...calls }).toEqual({ UpdateObjectEncryption: 1, HeadObject: 1 });

    // The current version of the same key is copied (a new version), without asking for the update again.
    const fixed = await remediateObject({ s3: clients.s3 }, await audit(bucket, 'doc.bin', current.versionId), target);
    expect(fixed).toMatchObject({ outcome: 'fixed', plan: { action: 'copy' } });
    expect(calls.UpdateObjectEncryption).toBe(1);

    const versions = (await writer.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }))).Versions ?? [];
    expect(versions).toHaveLength(3);
    // The old version is as it was: its content, still SSE-S3.
    expect((await observed(bucket, 'doc.bin', old.versionId)).encryption.sse).toBe('AES256');
    const latest = versions.find((v) => v.IsLatest)!;
    expect(latest.VersionId).not.toBe(old.versionId);
    expect((await observed(bucket, 'doc.bin')).kept.sha256).toBe(createHash('sha256').update(patternedBody(4096, 2)).digest('hex'));
  });
});
