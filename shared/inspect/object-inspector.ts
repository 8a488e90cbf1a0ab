// S3 adapter for object facts: HeadObject (exactly one per object) and paginated listing.
import {
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  type HeadObjectCommandOutput,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bucketRegionInError } from '../aws/bucket-regions.ts';
import { errorFacts } from '../aws/errors.ts';
import { retrying, type RetryPolicy } from '../aws/retry.ts';

/** A listing page is retried for about 15 s of backoff before the bucket is reported unlistable. */
const LISTING_RETRY: RetryPolicy = { attempts: 6, baseMs: 200, capMs: 5_000 };
import { clientSideEnvelope, withServerSideLayer } from '../domain/client-side.ts';
import { encryptionOfHead } from './head-encryption.ts';
import type { ObjectFacts, ObjectInspection, ServerSideMode } from '../domain/encryption.ts';
import type { ListedObject } from '../domain/listed-object.ts';
import { BucketListingError, type ObjectInspector, type ObjectLister } from './object-inspector-port.ts';

// Kept here for importers from before the port had its own file.
export { BucketListingError } from './object-inspector-port.ts';
export type { ListedObject, ObjectInspector, ObjectLister } from './object-inspector-port.ts';

function listedObjects(page: ListObjectsV2CommandOutput): ListedObject[] {
  return (page.Contents ?? []).map((object) => ({
    key: object.Key!,
    size: object.Size ?? 0,
    ...(object.ETag ? { etag: object.ETag } : {}),
    ...(object.StorageClass ? { storageClass: object.StorageClass } : {}),
    ...(object.LastModified ? { lastModified: object.LastModified.toISOString() } : {}),
  }));
}

/** Versions and delete markers of one ListObjectVersions page, in key order. */
function listedVersions(page: ListObjectVersionsCommandOutput): ListedObject[] {
  const versions: ListedObject[] = (page.Versions ?? []).map((v) => ({
    key: v.Key!,
    size: v.Size ?? 0,
    ...(v.ETag ? { etag: v.ETag } : {}),
    ...(v.StorageClass ? { storageClass: v.StorageClass } : {}),
    ...(v.LastModified ? { lastModified: v.LastModified.toISOString() } : {}),
    // "null": the version written while versioning was off; HeadObject takes it as is.
    ...(v.VersionId ? { versionId: v.VersionId } : {}),
    isLatest: v.IsLatest === true,
  }));
  const deleteMarkers: ListedObject[] = (page.DeleteMarkers ?? []).map((m) => ({
    key: m.Key!,
    size: 0,
    ...(m.VersionId ? { versionId: m.VersionId } : {}),
    ...(m.LastModified ? { lastModified: m.LastModified.toISOString() } : {}),
    isLatest: m.IsLatest === true,
    deleteMarker: true,
  }));
  return [...versions, ...deleteMarkers].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function listingError(bucket: string, error: unknown): BucketListingError {
  const { name, status, message } = errorFacts(error);
  if (name === 'NoSuchBucket') return new BucketListingError(bucket, name, `bucket ${bucket} does not exist`, { cause: error });
  if (status === 403) return new BucketListingError(bucket, name, `not allowed to list bucket ${bucket} (${name})`, { cause: error });
  return new BucketListingError(bucket, name, `cannot list bucket ${bucket}: ${message}`, { cause: error });
}

function factsFromHead(bucket: string, listed: ListedObject, head: HeadObjectCommandOutput): ObjectFacts {
  const encryption = encryptionOfHead(head);
  const serverSide = encryption.mode as ServerSideMode | 'sse-c';
  // The S3 Encryption Client's envelope sits in user metadata; S3's own layer is still reported beneath it.
  const envelope = serverSide === 'sse-c' ? undefined : clientSideEnvelope(head.Metadata);
  const facts: ObjectFacts = {
    bucket,
    key: listed.key,
    size: head.ContentLength ?? listed.size,
    storageClass: head.StorageClass ?? 'STANDARD',
    ...encryption,
    mode: envelope ? 'client-side' : serverSide,
    objectLock: { legalHold: head.ObjectLockLegalHoldStatus === 'ON' },
  };
  if (head.LastModified) facts.lastModified = head.LastModified.toISOString();
  if (envelope && serverSide !== 'sse-c') facts.clientSide = withServerSideLayer(envelope, serverSide);
  if (head.ObjectLockMode) facts.objectLock.mode = head.ObjectLockMode;
  if (head.ObjectLockRetainUntilDate) facts.objectLock.retainUntil = head.ObjectLockRetainUntilDate.toISOString();
  if (head.ArchiveStatus) facts.archiveStatus = head.ArchiveStatus;
  return facts;
}

/** SSE-C objects answer HeadObject without the customer key with 400: only the listing's facts are known. */
function sseCFacts(bucket: string, listed: ListedObject, versionId?: string): ObjectFacts {
  return {
    bucket,
    key: listed.key,
    size: listed.size,
    storageClass: listed.storageClass ?? 'STANDARD',
    mode: 'sse-c',
    bucketKeyEnabled: false,
    objectLock: { legalHold: false },
    ...(versionId ? { versionId } : {}),
    ...(listed.etag ? { etag: listed.etag } : {}),
    ...(listed.lastModified ? { lastModified: listed.lastModified } : {}),
  };
}

export class S3ObjectInspector implements ObjectInspector, ObjectLister {
  constructor(private readonly s3: S3Client) {}

  async inspect(bucket: string, listed: ListedObject, versionId?: string): Promise<ObjectInspection> {
    try {
      const head = await this.s3.send(
        new HeadObjectCommand({ Bucket: bucket, Key: listed.key, ...(versionId ? { VersionId: versionId } : {}) }),
      );
      // Without a version id HeadObject answers with the current version; with one, the listing says.
      const isLatest = versionId ? listed.isLatest : true;
      return { status: 'read', facts: { ...factsFromHead(bucket, listed, head), ...(isLatest === undefined ? {} : { isLatest }) } };
    } catch (error) {
      const { status, name, message } = errorFacts(error);
      const unreadable = (reason: 'object-access-denied' | 'object-vanished' | 'object-unreadable', detail: string) =>
        ({ status: 'unreadable', bucket, key: listed.key, ...(versionId ? { versionId } : {}), reason, detail }) as const;
      // S3's answer to a HEAD sent to another Region than the bucket's is a bare 400 too: not SSE-C.
      const bucketRegion = bucketRegionInError(error);
      if (bucketRegion) return unreadable('object-unreadable', `HeadObject was sent to another Region than the bucket's (${bucketRegion}): HTTP ${status ?? '?'}`);
      if (status === 400) {
        const facts = sseCFacts(bucket, listed, versionId);
        return { status: 'read', facts: listed.isLatest === false ? { ...facts, isLatest: false } : facts };
      }
      if (status === 403) return unreadable('object-access-denied', `HeadObject denied (${name})`);
      // 404: deleted since it was listed; 405: the version is now a delete marker.
      if (status === 404 || status === 405) return unreadable('object-vanished', 'object was deleted after it was listed');
      return unreadable('object-unreadable', `HeadObject failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${message}`);
    }
  }

  async *pages(bucket: string, prefix?: string): AsyncIterable<ListedObject[]> {
    let token: string | undefined;
    try {
      do {
        const input = { Bucket: bucket, MaxKeys: 1000, ...(prefix ? { Prefix: prefix } : {}), ...(token ? { ContinuationToken: token } : {}) };
        // A throttled or failing page is tried again: one bad page must not end a scan of millions.
        const page = await retrying('ListObjectsV2', () => this.s3.send(new ListObjectsV2Command(input)), LISTING_RETRY);
        yield listedObjects(page);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw listingError(bucket, error);
    }
  }

  async *versionPages(bucket: string, prefix?: string): AsyncIterable<ListedObject[]> {
    // The SDK has no paginator for ListObjectVersions: follow its key and version-id markers.
    let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
    try {
      for (;;) {
        const input = { Bucket: bucket, MaxKeys: 1000, ...(prefix ? { Prefix: prefix } : {}), ...markers };
        const page: ListObjectVersionsCommandOutput = await retrying('ListObjectVersions', () => this.s3.send(new ListObjectVersionsCommand(input)), LISTING_RETRY);
        yield listedVersions(page);
        if (!page.IsTruncated) return;
        markers = {
          ...(page.NextKeyMarker ? { KeyMarker: page.NextKeyMarker } : {}),
          ...(page.NextVersionIdMarker ? { VersionIdMarker: page.NextVersionIdMarker } : {}),
        };
      }
    } catch (error) {
      throw listingError(bucket, error);
    }
  }

  /**
   * One page of versions and delete markers, resumable: the token is ListObjectVersions' key and
   * version-id markers, as opaque text for the sweep's checkpoint.
   */
  async versionPage(bucket: string, token?: string): Promise<{ objects: ListedObject[]; nextToken?: string }> {
    const markers = token ? (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { KeyMarker?: string; VersionIdMarker?: string }) : {};
    try {
      const page = await retrying('ListObjectVersions', () => this.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 1000, ...markers })), LISTING_RETRY);
      const objects = listedVersions(page);
      if (!page.IsTruncated) return { objects };
      const next = { ...(page.NextKeyMarker ? { KeyMarker: page.NextKeyMarker } : {}), ...(page.NextVersionIdMarker ? { VersionIdMarker: page.NextVersionIdMarker } : {}) };
      return { objects, nextToken: Buffer.from(JSON.stringify(next)).toString('base64url') };
    } catch (error) {
      throw listingError(bucket, error);
    }
  }

  /** One page of keys from a continuation token, for listings that must resume where they stopped. */
  async page(bucket: string, continuationToken?: string): Promise<{ objects: ListedObject[]; nextToken?: string }> {
    try {
      const input = { Bucket: bucket, MaxKeys: 1000, ...(continuationToken ? { ContinuationToken: continuationToken } : {}) };
      const page = await retrying('ListObjectsV2', () => this.s3.send(new ListObjectsV2Command(input)), LISTING_RETRY);
      return { objects: listedObjects(page), ...(page.NextContinuationToken ? { nextToken: page.NextContinuationToken } : {}) };
    } catch (error) {
      throw listingError(bucket, error);
    }
  }
}
