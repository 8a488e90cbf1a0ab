// The parameters a copy in place sends, from what S3 said about the source: pure, no AWS.
import { describe, expect, test } from 'vitest';
import {
  checksumAlgorithmOf,
  copySource,
  encryptionParameters,
  grantHeaders,
  lockParameters,
  multipartUploadInput,
  partRange,
  versionParameter,
} from '../../shared/remediation/copy-parameters.ts';

const OWNER = { ID: 'owner-canonical-id' };
const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111';
const NOW = new Date('2026-12-01T00:00:00Z');

describe('copySource', () => {
  test.each([
    ['plain', 'b', 'a/b.txt', undefined, 'b/a/b.txt'],
    ['space, plus, percent and unicode encoded per segment, slashes kept', 'b', 'r/2026 Q1+Q2 100% é.bin', undefined, 'b/r/2026%20Q1%2BQ2%20100%25%20%C3%A9.bin'],
    ['a version id is a query parameter, encoded', 'b', 'k', 'v1+/=', 'b/k?versionId=v1%2B%2F%3D'],
    ['the "null" version of an unversioned object is not named', 'b', 'k', 'null', 'b/k'],
  ])('%s', (_name, bucket, key, versionId, expected) => {
    expect(copySource(bucket, key, versionId)).toBe(expected);
  });

  test('versionParameter follows the same rule', () => {
    expect(versionParameter({ versionId: 'null' })).toEqual({});
    expect(versionParameter({})).toEqual({});
    expect(versionParameter({ versionId: 'v1' })).toEqual({ VersionId: 'v1' });
  });
});

describe('grant headers', () => {
  test('an owner-only ACL gives no headers (buckets with ACLs disabled refuse any grant header)', () => {
    expect(grantHeaders({ Owner: OWNER, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: OWNER.ID }, Permission: 'FULL_CONTROL' }] })).toEqual({});
    expect(grantHeaders({ Owner: OWNER, Grants: [] })).toEqual({});
  });

  test('every grant is carried, grouped by permission, by id, URI or e-mail', () => {
    expect(
      grantHeaders({
        Owner: OWNER,
        Grants: [
          { Grantee: { Type: 'CanonicalUser', ID: OWNER.ID }, Permission: 'FULL_CONTROL' },
          { Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' }, Permission: 'READ' },
          { Grantee: { Type: 'CanonicalUser', ID: 'reader' }, Permission: 'READ' },
          { Grantee: { Type: 'AmazonCustomerByEmail', EmailAddress: 'a@example.com' }, Permission: 'READ_ACP' },
        ],
      }),
    ).toEqual({
      GrantFullControl: `id="${OWNER.ID}"`,
      GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers", id="reader"',
      GrantReadACP: 'emailAddress="a@example.com"',
    });
  });

  test('a grant that cannot be expressed as a header stops the copy rather than dropping it', () => {
    expect(() => grantHeaders({ Owner: OWNER, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: 'x' }, Permission: 'WRITE' }] })).toThrow(/WRITE/);
    expect(() => grantHeaders({ Owner: OWNER, Grants: [{ Grantee: { Type: 'CanonicalUser' }, Permission: 'READ' }] })).toThrow(/without a grantee/);
  });
});

describe('checksum, lock and encryption parameters', () => {
  test('the checksum algorithm is the one HeadObject reports a value for', () => {
    expect(checksumAlgorithmOf({ $metadata: {}, ChecksumSHA256: 'x' })).toBe('SHA256');
    expect(checksumAlgorithmOf({ $metadata: {}, ChecksumCRC64NVME: 'x' })).toBe('CRC64NVME');
    expect(checksumAlgorithmOf({ $metadata: {} })).toBeUndefined();
  });

  test('retention in force and a legal hold are carried; an expired retention is not', () => {
    const future = new Date('2027-01-01T00:00:00Z');
    expect(lockParameters({ ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: future, ObjectLockLegalHoldStatus: 'ON' }, NOW)).toEqual({
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: future,
      ObjectLockLegalHoldStatus: 'ON',
    });
    expect(lockParameters({ ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: new Date('2026-11-30T00:00:00Z'), ObjectLockLegalHoldStatus: 'OFF' }, NOW)).toEqual({});
  });

  test.each([
    [{ mode: 'sse-s3', bucketKey: false }, { ServerSideEncryption: 'AES256' }],
    [{ mode: 'sse-kms', kmsKey: KEY_ARN, bucketKey: true }, { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_ARN, BucketKeyEnabled: true }],
    [{ mode: 'dsse-kms', kmsKey: KEY_ARN, bucketKey: false }, { ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: KEY_ARN }],
  ] as const)('target %j → %j', (target, expected) => {
    expect(encryptionParameters(target)).toEqual(expected);
  });
});

describe('multipart copy', () => {
  test('CreateMultipartUpload is given every attribute, tags URL-encoded, CRC64NVME as a full-object checksum', () => {
    const input = multipartUploadInput(
      { bucket: 'b', key: 'k', target: { mode: 'sse-kms', kmsKey: KEY_ARN, bucketKey: true } },
      {
        head: {
          $metadata: {},
          Metadata: { owner: 'team a' },
          ContentType: 'application/pdf',
          CacheControl: 'no-cache',
          ContentDisposition: 'attachment',
          ContentEncoding: 'gzip',
          ContentLanguage: 'fr',
          StorageClass: 'STANDARD_IA',
          WebsiteRedirectLocation: '/elsewhere',
          ChecksumCRC64NVME: 'x',
          ServerSideEncryption: 'aws:kms:dsse',
        },
        acl: { Owner: OWNER, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: 'reader' }, Permission: 'READ' }] },
        tagging: { TagSet: [{ Key: 'project', Value: 'a&b' }, { Key: 'tier', Value: 'gold' }] },
      },
      NOW,
    );
    expect(input).toEqual({
      Bucket: 'b',
      Key: 'k',
      Metadata: { owner: 'team a' },
      ContentType: 'application/pdf',
      CacheControl: 'no-cache',
      ContentDisposition: 'attachment',
      ContentEncoding: 'gzip',
      ContentLanguage: 'fr',
      Tagging: 'project=a%26b&tier=gold',
      StorageClass: 'STANDARD_IA',
      WebsiteRedirectLocation: '/elsewhere',
      ChecksumAlgorithm: 'CRC64NVME',
      ChecksumType: 'FULL_OBJECT',
      GrantRead: 'id="reader"',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: KEY_ARN,
      BucketKeyEnabled: true,
    });
  });

  test('part ranges cover the object exactly, the last part shorter', () => {
    const size = 12 * 1024 * 1024;
    const part = 5 * 1024 * 1024;
    expect([0, 1, 2].map((i) => partRange(i, part, size))).toEqual(['bytes=0-5242879', 'bytes=5242880-10485759', 'bytes=10485760-12582911']);
  });
});
