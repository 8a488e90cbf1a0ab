// What a listing (ListObjectsV2, an S3 Inventory row, an event) says about an object before it is
// inspected. Plain data: no SDK types.

export interface ListedObject {
  key: string;
  size: number;
  etag?: string;
  storageClass?: string;
  lastModified?: string;
  /** Set when the listing names versions (ListObjectVersions, an inventory of all versions). */
  versionId?: string;
  /** false for a noncurrent version; undefined when the listing does not say (then it is the current one). */
  isLatest?: boolean;
  /** A delete marker: no object to inspect; when latest, the object is gone. */
  deleteMarker?: boolean;
}

/** S3's name for the version written while versioning was off. */
export const S3_NULL_VERSION = 'null';

/** The version id a request about this version names: none for S3's "null" version (decided here, once). */
export const requestVersionId = (versionId: string | undefined): string | undefined =>
  versionId && versionId !== S3_NULL_VERSION ? versionId : undefined;
