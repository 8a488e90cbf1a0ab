// The object inspector port: what the audit needs to know about objects. S3ObjectInspector
// (object-inspector.ts) is its adapter; tests and the inventory tier bring their own.
import type { ObjectInspection } from '../domain/encryption.ts';
import type { ListedObject } from '../domain/listed-object.ts';

export type { ListedObject } from '../domain/listed-object.ts';

export interface ObjectInspector {
  inspect(bucket: string, listed: ListedObject, versionId?: string): Promise<ObjectInspection>;
}

export interface ObjectLister {
  /** Pages of objects under the prefix, in key order; throws BucketListingError when the bucket cannot be listed. */
  pages(bucket: string, prefix?: string): AsyncIterable<ListedObject[]>;
  /** Pages of every version and delete marker under the prefix (versionId, isLatest, deleteMarker set). */
  versionPages?(bucket: string, prefix?: string): AsyncIterable<ListedObject[]>;
}

/** The bucket cannot be listed (missing, denied, failing): part of the lister's contract. */
export class BucketListingError extends Error {
  constructor(
    readonly bucket: string,
    readonly code: string,
    message: string,
    /** The SDK's error (whether it was weather — throttling, 5xx — or a refusal says what a retry can do). */
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BucketListingError';
  }
}
