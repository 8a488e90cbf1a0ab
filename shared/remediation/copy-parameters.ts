// The parameters of a copy in place, computed from what S3 said about the source (HeadObject,
// GetObjectAcl, GetObjectTagging) and the target. Pure: no I/O, unit-tested without AWS. A copy must
// keep what S3 would otherwise drop or reset: storage class, Object Lock settings, website redirect,
// ACL grants (as grant headers on the copy itself, so there is no window with another ACL) and the
// checksum algorithm; a multipart upload copies nothing by itself, so it is given every attribute.
import type {
  ChecksumAlgorithm,
  CreateMultipartUploadCommandInput,
  GetObjectAclCommandOutput,
  GetObjectTaggingCommandOutput,
  HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import type { RemediationTarget } from './fix-plan.ts';
import { requestVersionId } from '../domain/listed-object.ts';

/** `bucket/key?versionId=…` URL-encoded as S3 expects x-amz-copy-source (the SDK sends it as given). */
export function copySource(bucket: string, key: string, versionId?: string): string {
  const path = key.split('/').map(encodeURIComponent).join('/');
  const version = requestVersionId(versionId) ? `?versionId=${encodeURIComponent(versionId!)}` : '';
  return `${bucket}/${path}${version}`;
}

/** `VersionId` for a request about the audited version; none for unversioned objects ("null"). */
export const versionParameter = (object: { versionId?: string }): { VersionId?: string } =>
  requestVersionId(object.versionId) ? { VersionId: object.versionId! } : {};

/** The target as S3 write parameters (CopyObject, CreateMultipartUpload). */
export function encryptionParameters(target: RemediationTarget) {
  switch (target.mode) {
    case 'sse-s3':
      return { ServerSideEncryption: 'AES256' as const };
    case 'sse-kms':
      return { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: target.kmsKey!, BucketKeyEnabled: target.bucketKey };
    case 'dsse-kms':
      return { ServerSideEncryption: 'aws:kms:dsse' as const, SSEKMSKeyId: target.kmsKey! };
  }
}

const CHECKSUM_FIELDS: [keyof HeadObjectCommandOutput, ChecksumAlgorithm][] = [
  ['ChecksumCRC64NVME', 'CRC64NVME'],
  ['ChecksumCRC32', 'CRC32'],
  ['ChecksumCRC32C', 'CRC32C'],
  ['ChecksumSHA1', 'SHA1'],
  ['ChecksumSHA256', 'SHA256'],
];

/** The object's checksum algorithm, from HeadObject with ChecksumMode ENABLED. */
export function checksumAlgorithmOf(head: HeadObjectCommandOutput): ChecksumAlgorithm | undefined {
  return CHECKSUM_FIELDS.find(([field]) => head[field] !== undefined)?.[1];
}

/** Object Lock settings to give the new version: the same as the audited one's, while in force. */
export function lockParameters(head: Pick<HeadObjectCommandOutput, 'ObjectLockMode' | 'ObjectLockRetainUntilDate' | 'ObjectLockLegalHoldStatus'>, now: Date) {
  const retained =
    head.ObjectLockMode !== undefined &&
    head.ObjectLockRetainUntilDate !== undefined &&
    head.ObjectLockRetainUntilDate.getTime() > now.getTime();
  return {
    ...(retained ? { ObjectLockMode: head.ObjectLockMode, ObjectLockRetainUntilDate: head.ObjectLockRetainUntilDate } : {}),
    ...(head.ObjectLockLegalHoldStatus === 'ON' ? { ObjectLockLegalHoldStatus: 'ON' as const } : {}),
  };
}

export type GrantHeaders = Partial<Record<'GrantRead' | 'GrantReadACP' | 'GrantWriteACP' | 'GrantFullControl', string>>;
const GRANT_HEADER: Record<string, keyof GrantHeaders> = {
  READ: 'GrantRead',
  READ_ACP: 'GrantReadACP',
  WRITE_ACP: 'GrantWriteACP',
  FULL_CONTROL: 'GrantFullControl',
};

/**
 * The object's ACL as grant headers. An ACL that only gives the owner FULL_CONTROL is what S3 gives a
 * new object anyway: no headers then, so the copy also works in buckets with ACLs disabled
 * (Object Ownership "bucket owner enforced" refuses any grant header).
 */
export function grantHeaders(acl: Pick<GetObjectAclCommandOutput, 'Owner' | 'Grants'>): GrantHeaders {
  const grants = acl.Grants ?? [];
  const ownerOnly =
    grants.length === 0 ||
    grants.every((g) => g.Permission === 'FULL_CONTROL' && g.Grantee?.Type === 'CanonicalUser' && g.Grantee.ID === acl.Owner?.ID);
  if (ownerOnly) return {};
  const headers: Record<string, string[]> = {};
  for (const grant of grants) {
    const header = GRANT_HEADER[grant.Permission ?? ''];
    const grantee = grant.Grantee;
    if (!header || !grantee) throw new Error(`cannot carry ACL grant ${grant.Permission} over a copy`);
    const who = grantee.ID
      ? `id="${grantee.ID}"`
      : grantee.URI
        ? `uri="${grantee.URI}"`
        : grantee.EmailAddress
          ? `emailAddress="${grantee.EmailAddress}"`
          : undefined;
    if (!who) throw new Error(`cannot carry an ACL grant without a grantee over a copy`);
    (headers[header] ??= []).push(who);
  }
  return Object.fromEntries(Object.entries(headers).map(([header, list]) => [header, list.join(', ')]));
}

/** What every kind of copy carries over from the source, beside metadata and tags. */
export function preservedParameters(head: HeadObjectCommandOutput, acl: Pick<GetObjectAclCommandOutput, 'Owner' | 'Grants'>, now: Date) {
  const checksumAlgorithm = checksumAlgorithmOf(head);
  return {
    ...(head.StorageClass ? { StorageClass: head.StorageClass } : {}),
    ...(head.WebsiteRedirectLocation ? { WebsiteRedirectLocation: head.WebsiteRedirectLocation } : {}),
    ...(checksumAlgorithm ? { ChecksumAlgorithm: checksumAlgorithm } : {}),
    ...lockParameters(head, now),
    ...grantHeaders(acl),
  };
}

/** CreateMultipartUpload's input: every attribute explicitly, since a multipart upload copies none. */
export function multipartUploadInput(
  object: { bucket: string; key: string; target: RemediationTarget },
  source: { head: HeadObjectCommandOutput; acl: Pick<GetObjectAclCommandOutput, 'Owner' | 'Grants'>; tagging: Pick<GetObjectTaggingCommandOutput, 'TagSet'> },
  now: Date,
): CreateMultipartUploadCommandInput {
  const { head } = source;
  const tagSet = source.tagging.TagSet ?? [];
  const preserved = preservedParameters(head, source.acl, now);
  return {
    Bucket: object.bucket,
    Key: object.key,
    ...(head.Metadata ? { Metadata: head.Metadata } : {}),
    ...(head.ContentType ? { ContentType: head.ContentType } : {}),
    ...(head.CacheControl ? { CacheControl: head.CacheControl } : {}),
    ...(head.ContentDisposition ? { ContentDisposition: head.ContentDisposition } : {}),
    ...(head.ContentEncoding ? { ContentEncoding: head.ContentEncoding } : {}),
    ...(head.ContentLanguage ? { ContentLanguage: head.ContentLanguage } : {}),
    ...(head.Expires ? { Expires: head.Expires } : {}),
    ...(tagSet.length > 0
      ? { Tagging: new URLSearchParams(tagSet.map((tag): [string, string] => [tag.Key ?? '', tag.Value ?? ''])).toString() }
      : {}),
    ...preserved,
    // CRC64NVME checksums exist only as full-object checksums.
    ...(preserved.ChecksumAlgorithm === 'CRC64NVME' ? { ChecksumType: 'FULL_OBJECT' as const } : {}),
    ...encryptionParameters(object.target),
  };
}

/** `bytes=start-end` of part `index` (0-based) for UploadPartCopy's CopySourceRange. */
export function partRange(index: number, partSizeBytes: number, size: number): string {
  const start = index * partSizeBytes;
  const end = Math.min(start + partSizeBytes, size) - 1;
  return `bytes=${start}-${end}`;
}
