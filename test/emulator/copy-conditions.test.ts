import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { awsError, newBucket, s3 } from './helpers.ts';

const PAST = new Date(Date.now() - 3_600_000);

async function source(Bucket: string) {
  const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'source data', Metadata: { origin: 'src' }, Tagging: 't=1' }));
  return put.ETag!;
}

describe('CopyObject / UploadPartCopy copy-source preconditions (412 PreconditionFailed)', () => {
  test('CopySourceIfMatch with another ETag fails with 412 PreconditionFailed; with the source ETag it copies', async () => {
    const Bucket = await newBucket();
    const etag = await source(Bucket);
    const failed = await awsError(
      s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src`, CopySourceIfMatch: '"0123456789abcdef0123456789abcdef"' })),
    );
    expect(failed).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(await awsError(s3.send(new HeadObjectCommand({ Bucket, Key: 'dst' })))).toMatchObject({ status: 404 });
    const copied = await s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src`, CopySourceIfMatch: etag }));
    expect(copied.CopyObjectResult?.ETag).toBe(etag);
  });

  test('CopySourceIfNoneMatch with the source ETag fails with 412 PreconditionFailed', async () => {
    const Bucket = await newBucket();
    const etag = await source(Bucket);
    const failed = await awsError(s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src`, CopySourceIfNoneMatch: etag })));
    expect(failed).toMatchObject({ name: 'PreconditionFailed', status: 412 });
  });

  test('CopySourceIfUnmodifiedSince before the last modification fails with 412; CopySourceIfModifiedSince after it fails with 412', async () => {
    const Bucket = await newBucket();
    await source(Bucket);
    const unmodified = await awsError(
      s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src`, CopySourceIfUnmodifiedSince: PAST })),
    );
    expect(unmodified).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'src' }));
    const modified = await awsError(
      s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src`, CopySourceIfModifiedSince: head.LastModified })),
    );
    expect(modified).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    const ok = await s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src`, CopySourceIfModifiedSince: PAST }));
    expect(ok.$metadata.httpStatusCode).toBe(200);
  });

  test('a matching CopySourceIfMatch overrides a failing CopySourceIfUnmodifiedSince (AWS copies, 200)', async () => {
    const Bucket = await newBucket();
    const etag = await source(Bucket);
    const copied = await s3.send(
      new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src`, CopySourceIfMatch: etag, CopySourceIfUnmodifiedSince: PAST }),
    );
    expect(copied.$metadata.httpStatusCode).toBe(200);
  });

  test('a failing CopySourceIfNoneMatch with a true CopySourceIfModifiedSince answers 412', async () => {
    const Bucket = await newBucket();
    const etag = await source(Bucket);
    const failed = await awsError(
      s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src`, CopySourceIfNoneMatch: etag, CopySourceIfModifiedSince: PAST })),
    );
    expect(failed).toMatchObject({ name: 'PreconditionFailed', status: 412 });
  });

  test('UploadPartCopy enforces CopySourceIfMatch / CopySourceIfUnmodifiedSince with 412', async () => {
    const Bucket = await newBucket();
    const etag = await source(Bucket);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mpu' }));
    const base = { Bucket, Key: 'mpu', UploadId, PartNumber: 1, CopySource: `${Bucket}/src` };
    expect(await awsError(s3.send(new UploadPartCopyCommand({ ...base, CopySourceIfMatch: '"ffffffffffffffffffffffffffffffff"' })))).toMatchObject({
      name: 'PreconditionFailed',
      status: 412,
    });
    expect(await awsError(s3.send(new UploadPartCopyCommand({ ...base, CopySourceIfUnmodifiedSince: PAST })))).toMatchObject({
      name: 'PreconditionFailed',
      status: 412,
    });
    const ok = await s3.send(new UploadPartCopyCommand({ ...base, CopySourceIfMatch: etag, CopySourceIfModifiedSince: PAST }));
    expect(ok.CopyPartResult?.ETag).toBe(etag);
  });

  test('CopySource with ?versionId= copies that version', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'version one' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'version two' }));
    const copied = await s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src?versionId=${v1.VersionId}` }));
    expect(copied.CopySourceVersionId).toBe(v1.VersionId);
    const body = await (await s3.send(new GetObjectCommand({ Bucket, Key: 'dst' }))).Body!.transformToString();
    expect(body).toBe('version one');
  });

  test('MetadataDirective COPY keeps source metadata and tags; REPLACE and TaggingDirective REPLACE take the request values', async () => {
    const Bucket = await newBucket();
    await source(Bucket);
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy', CopySource: `${Bucket}/src` }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'copy' }))).Metadata).toEqual({ origin: 'src' });
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'copy' }))).TagSet).toEqual([{ Key: 't', Value: '1' }]);
    await s3.send(
      new CopyObjectCommand({
        Bucket, Key: 'replaced', CopySource: `${Bucket}/src`,
        MetadataDirective: 'REPLACE', Metadata: { origin: 'new' }, TaggingDirective: 'REPLACE', Tagging: 'n=2',
      }),
    );
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'replaced' }))).Metadata).toEqual({ origin: 'new' });
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'replaced' }))).TagSet).toEqual([{ Key: 'n', Value: '2' }]);
  });
});
