import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectAclCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { awsError, customerKey, newBucket, s3 } from './helpers.ts';
import { CreateBucketCommand } from '@aws-sdk/client-s3';

const NEEDS_PARAMETERS =
  'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.';

async function putSseC(Bucket: string, Key: string, ck: { key: string; md5: string }, Body = 'secret') {
  return s3.send(
    new PutObjectCommand({ Bucket, Key, Body, SSECustomerAlgorithm: 'AES256', SSECustomerKey: ck.key, SSECustomerKeyMD5: ck.md5 }),
  );
}

describe('SSE-C: S3 stores the key MD5 and requires the same key to read', () => {
  test('PutObject with SSE-C answers SSECustomerAlgorithm and SSECustomerKeyMD5 and no ServerSideEncryption', async () => {
    const Bucket = await newBucket();
    const ck = customerKey();
    const put = await putSseC(Bucket, 'k', ck);
    expect(put.SSECustomerAlgorithm).toBe('AES256');
    expect(put.SSECustomerKeyMD5).toBe(ck.md5);
    expect(put.ServerSideEncryption).toBeUndefined();
  });

  test('HeadObject without the SSE-C headers answers 400 Bad Request with no body', async () => {
    const Bucket = await newBucket();
    await putSseC(Bucket, 'k', customerKey());
    const error = await awsError(s3.send(new HeadObjectCommand({ Bucket, Key: 'k' })));
    expect(error.status).toBe(400);
  });

  test('GetObject without the SSE-C headers answers 400 InvalidRequest', async () => {
    const Bucket = await newBucket();
    await putSseC(Bucket, 'k', customerKey());
    const error = await awsError(s3.send(new GetObjectCommand({ Bucket, Key: 'k' })));
    expect(error).toEqual({ name: 'InvalidRequest', status: 400, message: NEEDS_PARAMETERS });
  });

  test('GetObject and HeadObject with another customer key answer 403 (AccessDenied on GET)', async () => {
    const Bucket = await newBucket();
    await putSseC(Bucket, 'k', customerKey());
    const other = customerKey();
    const params = { Bucket, Key: 'k', SSECustomerAlgorithm: 'AES256', SSECustomerKey: other.key, SSECustomerKeyMD5: other.md5 };
    const get = await awsError(s3.send(new GetObjectCommand(params)));
    expect(get).toEqual({
      name: 'AccessDenied',
      status: 403,
      message: 'Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.',
    });
    expect((await awsError(s3.send(new HeadObjectCommand(params)))).status).toBe(403);
  });

  test('GetObject and HeadObject with the right key answer 200 with SSECustomerAlgorithm/SSECustomerKeyMD5 and no ServerSideEncryption', async () => {
    const Bucket = await newBucket();
    const ck = customerKey();
    await putSseC(Bucket, 'k', ck, 'the data');
    const params = { Bucket, Key: 'k', SSECustomerAlgorithm: 'AES256', SSECustomerKey: ck.key, SSECustomerKeyMD5: ck.md5 };
    const head = await s3.send(new HeadObjectCommand(params));
    expect(head.$metadata.httpStatusCode).toBe(200);
    expect(head.SSECustomerAlgorithm).toBe('AES256');
    expect(head.SSECustomerKeyMD5).toBe(ck.md5);
    expect(head.ServerSideEncryption).toBeUndefined();
    const get = await s3.send(new GetObjectCommand(params));
    expect(get.SSECustomerKeyMD5).toBe(ck.md5);
    expect(get.ServerSideEncryption).toBeUndefined();
    expect(await get.Body!.transformToString()).toBe('the data');
  });

  test('SSE-C wins over a bucket default encryption: the object reports no ServerSideEncryption', async () => {
    const Bucket = await newBucket();
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] },
      }),
    );
    const ck = customerKey();
    await putSseC(Bucket, 'k', ck);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket, Key: 'k', SSECustomerAlgorithm: 'AES256', SSECustomerKey: ck.key, SSECustomerKeyMD5: ck.md5 }),
    );
    expect(head.ServerSideEncryption).toBeUndefined();
    expect(head.SSEKMSKeyId).toBeUndefined();
    expect(head.SSECustomerKeyMD5).toBe(ck.md5);
  });

  test('SSE-C together with x-amz-server-side-encryption is rejected with 400 InvalidArgument', async () => {
    const Bucket = await newBucket();
    const ck = customerKey();
    const error = await awsError(
      s3.send(
        new PutObjectCommand({
          Bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'AES256',
          SSECustomerAlgorithm: 'AES256', SSECustomerKey: ck.key, SSECustomerKeyMD5: ck.md5,
        }),
      ),
    );
    expect(error).toEqual({
      name: 'InvalidArgument',
      status: 400,
      message: 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified',
    });
  });

  test('CopyObject from an SSE-C source without the copy-source SSE-C headers answers 400 InvalidRequest', async () => {
    const Bucket = await newBucket();
    await putSseC(Bucket, 'src', customerKey());
    const error = await awsError(s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src` })));
    expect(error).toEqual({ name: 'InvalidRequest', status: 400, message: NEEDS_PARAMETERS });
  });

  test('CopyObject from an SSE-C source with its key and no destination SSE-C stores the copy SSE-S3', async () => {
    const Bucket = await newBucket();
    const ck = customerKey();
    await putSseC(Bucket, 'src', ck, 'copied');
    const copy = await s3.send(
      new CopyObjectCommand({
        Bucket, Key: 'dst', CopySource: `${Bucket}/src`,
        CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: ck.key, CopySourceSSECustomerKeyMD5: ck.md5,
      }),
    );
    expect(copy.ServerSideEncryption).toBe('AES256');
    expect(copy.SSECustomerAlgorithm).toBeUndefined();
    const get = await s3.send(new GetObjectCommand({ Bucket, Key: 'dst' }));
    expect(await get.Body!.transformToString()).toBe('copied');
    const wrong = customerKey();
    const denied = await awsError(
      s3.send(
        new CopyObjectCommand({
          Bucket, Key: 'dst2', CopySource: `${Bucket}/src`,
          CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: wrong.key, CopySourceSSECustomerKeyMD5: wrong.md5,
        }),
      ),
    );
    expect(denied).toMatchObject({ name: 'AccessDenied', status: 403 });
  });

  test('a multipart upload with SSE-C yields an SSE-C object that needs the key', async () => {
    const Bucket = await newBucket();
    const ck = customerKey();
    const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: ck.key, SSECustomerKeyMD5: ck.md5 };
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mpu', ...sse }));
    expect(created.SSECustomerKeyMD5).toBe(ck.md5);
    expect(created.ServerSideEncryption).toBeUndefined();
    const part = await s3.send(new UploadPartCommand({ Bucket, Key: 'mpu', UploadId: created.UploadId, PartNumber: 1, Body: 'p', ...sse }));
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key: 'mpu', UploadId: created.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
    );
    expect(await awsError(s3.send(new GetObjectCommand({ Bucket, Key: 'mpu' })))).toMatchObject({ name: 'InvalidRequest', status: 400 });
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'mpu', ...sse }));
    expect(head.SSECustomerKeyMD5).toBe(ck.md5);
    expect(head.ServerSideEncryption).toBeUndefined();
  });
});

// Which APIs take the customer key (S3 API reference, each operation's request syntax): GetObject,
// HeadObject and GetObjectAttributes (x-amz-server-side-encryption-customer-*), CopyObject and
// UploadPartCopy for their source (x-amz-copy-source-server-side-encryption-customer-*). The
// object's sub-resources (GetObjectTagging, GetObjectAcl, GetObjectLegalHold) take no SSE-C headers
// and answer without the key.
describe('SSE-C: which APIs need the customer key', () => {
  test('GetObjectAttributes without the key answers 400 InvalidRequest; with it, the attributes', async () => {
    const Bucket = await newBucket();
    const ck = customerKey();
    await putSseC(Bucket, 'k', ck, 'attributes');
    const error = await awsError(s3.send(new GetObjectAttributesCommand({ Bucket, Key: 'k', ObjectAttributes: ['ObjectSize'] })));
    expect(error).toEqual({ name: 'InvalidRequest', status: 400, message: NEEDS_PARAMETERS });
    const attributes = await s3.send(
      new GetObjectAttributesCommand({
        Bucket, Key: 'k', ObjectAttributes: ['ObjectSize'],
        SSECustomerAlgorithm: 'AES256', SSECustomerKey: ck.key, SSECustomerKeyMD5: ck.md5,
      }),
    );
    expect(attributes.ObjectSize).toBe('attributes'.length);
  });

  test('GetObjectTagging answers the tags without the customer key', async () => {
    const Bucket = await newBucket();
    const ck = customerKey();
    await s3.send(
      new PutObjectCommand({
        Bucket, Key: 'k', Body: 'x', Tagging: 'team=data',
        SSECustomerAlgorithm: 'AES256', SSECustomerKey: ck.key, SSECustomerKeyMD5: ck.md5,
      }),
    );
    const tagging = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'k' }));
    expect(tagging.TagSet).toEqual([{ Key: 'team', Value: 'data' }]);
  });

  test('GetObjectAcl answers the ACL without the customer key', async () => {
    const Bucket = await newBucket();
    await putSseC(Bucket, 'k', customerKey());
    const acl = await s3.send(new GetObjectAclCommand({ Bucket, Key: 'k' }));
    expect(acl.$metadata.httpStatusCode).toBe(200);
    expect(acl.Grants?.map((g) => g.Permission)).toEqual(['FULL_CONTROL']);
  });

  test('GetObjectLegalHold answers the hold without the customer key', async () => {
    const Bucket = `lock-${process.pid}-${Date.now().toString(36)}`;
    await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
    const ck = customerKey();
    await s3.send(
      new PutObjectCommand({
        Bucket, Key: 'k', Body: 'x', ObjectLockLegalHoldStatus: 'ON',
        SSECustomerAlgorithm: 'AES256', SSECustomerKey: ck.key, SSECustomerKeyMD5: ck.md5,
      }),
    );
    const hold = await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: 'k' }));
    expect(hold.LegalHold?.Status).toBe('ON');
  });

  test('UploadPartCopy from an SSE-C source without the copy-source SSE-C headers answers 400 InvalidRequest; with them, the part', async () => {
    const Bucket = await newBucket();
    const ck = customerKey();
    await putSseC(Bucket, 'src', ck, 'part source');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'dst' }));
    const part = { Bucket, Key: 'dst', UploadId, PartNumber: 1, CopySource: `${Bucket}/src` };
    expect(await awsError(s3.send(new UploadPartCopyCommand(part)))).toEqual({ name: 'InvalidRequest', status: 400, message: NEEDS_PARAMETERS });
    const copied = await s3.send(
      new UploadPartCopyCommand({ ...part, CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: ck.key, CopySourceSSECustomerKeyMD5: ck.md5 }),
    );
    expect(copied.CopyPartResult?.ETag).toBeTruthy();
  });
});
