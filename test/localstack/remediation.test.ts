// `sseguard scan --remediate` against LocalStack, which does not implement UpdateObjectEncryption:
// the fix the plan would make in place goes through the conditional copy instead, and the copy
// keeps every byte, the metadata, the tags and the ACL grants.
import {
  GetObjectAclCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UpdateObjectEncryptionCommand,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { createAclBucket, createKey, patternedBody, RICH_ATTRIBUTES, type TestKey } from '../support/aws-fixtures.ts';
import { file, sseguard } from './cli.ts';

const BUCKET = 'localstack-fix';
const TABLE = 'localstack-fix-findings';
const clients = createAwsClients();
const run = (args: string[]) => sseguard(args, { SSEGUARD_TABLE: TABLE });
let target: TestKey;

// RICH_ATTRIBUTES without the storage class: LocalStack stores STANDARD_IA, but a copy keeps it only
// if the product asks for it, which the moto suites already prove; here the interest is the fallback.
const { StorageClass: _storageClass, ...ATTRIBUTES } = RICH_ATTRIBUTES;
const BODIES = { 'data/small.csv': patternedBody(4096, 1), 'data/larger.bin': patternedBody(200_000, 2) };

async function snapshot(key: string) {
  const head = await clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  const body = Buffer.from(await (await clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
  const tags = (await clients.s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }))).TagSet;
  const grants = (await clients.s3.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: key }))).Grants?.map((g) => `${g.Grantee?.ID}:${g.Permission}`).sort();
  return {
    encryption: { mode: head.ServerSideEncryption, key: head.SSEKMSKeyId },
    kept: {
      body: body.toString('base64'),
      metadata: head.Metadata,
      contentType: head.ContentType,
      cacheControl: head.CacheControl,
      contentDisposition: head.ContentDisposition,
      contentLanguage: head.ContentLanguage,
      tags: [...(tags ?? [])].sort((a, b) => a.Key!.localeCompare(b.Key!)),
      grants,
    },
  };
}

beforeAll(async () => {
  target = await createKey(clients, { rotation: true });
  await createAclBucket(clients, BUCKET);
  for (const [key, body] of Object.entries(BODIES)) {
    await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ...ATTRIBUTES, ServerSideEncryption: 'AES256' }));
  }
});

test('LocalStack differs from AWS: UpdateObjectEncryption answers 501 (not emulated), where AWS changes the encryption in place', async () => {
  const error = await clients.s3
    .send(new UpdateObjectEncryptionCommand({ Bucket: BUCKET, Key: 'data/small.csv', ObjectEncryption: { SSEKMS: { KMSKeyArn: target.arn } } }))
    .then(() => undefined, (e: { $metadata?: { httpStatusCode?: number } }) => e);
  expect(error?.$metadata?.httpStatusCode).toBe(501);
  expect((await clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'data/small.csv' }))).ServerSideEncryption).toBe('AES256');
});

describe('scan --remediate SSE-S3 → SSE-KMS where UpdateObjectEncryption is unavailable', () => {
  beforeAll(async () => {
    expect((await run(['init'])).code).toBe(0);
  });

  test('each object is fixed through the conditional copy: SSE-KMS with the target key; bytes, metadata, headers, tags and grants unchanged', async () => {
    const before = Object.fromEntries(await Promise.all(Object.keys(BODIES).map(async (key) => [key, await snapshot(key)] as const)));
    expect(before['data/small.csv']!.kept.tags).toEqual([{ Key: 'classification', Value: 'secret' }, { Key: 'team', Value: 'data eng' }]);
    const policy = file('fix.yaml', `version: 1\ndefault: { require: sse-kms, kmsKeys: [${target.arn}], remediate: true }\n`);

    const fix = await run(['scan', '--bucket', BUCKET, '--policy', policy, '--remediate', '--json']);
    expect(fix.code).toBe(0);
    const document = JSON.parse(fix.stdout) as { findings: { key: string; verdict: string; kmsKeyArn: string; remediation?: { action: string; outcome: string } }[] };
    expect(document.findings).toHaveLength(2);
    for (const finding of document.findings) {
      expect(finding).toMatchObject({ verdict: 'compliant', kmsKeyArn: target.arn, remediation: { outcome: 'fixed', action: expect.stringMatching(/copy/) } });
    }

    for (const [key, { kept }] of Object.entries(before)) {
      const after = await snapshot(key);
      expect(after.encryption, key).toEqual({ mode: 'aws:kms', key: target.arn });
      expect(after.kept, key).toEqual(kept);
    }
    const again = await run(['scan', '--bucket', BUCKET, '--policy', policy, '--remediate']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to fix.');
  });
});
