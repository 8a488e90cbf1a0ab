// What a listing (ListObjectsV2, an S3 Inventory row, an event) says about an object before it is
// inspected. Plain data: no SDK types.

export interface ListedObject {
  key: string;
  size: number;
  etag?: string;
  storageClass?: string;
  lastModified?: string;
}
