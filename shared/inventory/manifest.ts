// S3 Inventory's manifest.json: its shape (checked, not trusted), its checksum, and which manifest is
// the newest for a bucket. Pure: the S3 reads are in source.ts.
//
// Layout in the destination bucket (S3 User Guide, "Locating your inventory list"):
//   P/<source-bucket>/<config-id>/YYYY-MM-DDTHH-MMZ/manifest.json
//   P/<source-bucket>/<config-id>/YYYY-MM-DDTHH-MMZ/manifest.checksum   MD5 hex of manifest.json
//   P/<source-bucket>/<config-id>/data/<file>.csv.gz | .parquet | .orc
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InventoryError } from './errors.ts';

export const INVENTORY_FORMATS = ['CSV', 'Parquet', 'ORC'] as const;
export type InventoryFormat = (typeof INVENTORY_FORMATS)[number];

const ManifestSchema = z.object({
  sourceBucket: z.string().min(1),
  destinationBucket: z.string().min(1),
  version: z.string(),
  // Epoch milliseconds, sent as a string.
  creationTimestamp: z.union([z.string().regex(/^\d+$/), z.number().int()]),
  fileFormat: z.enum(INVENTORY_FORMATS),
  fileSchema: z.string().min(1),
  files: z.array(z.object({ key: z.string().min(1), size: z.number().int().nonnegative(), MD5checksum: z.string().regex(/^[0-9a-f]{32}$/i) })),
});

export interface InventoryDataFile {
  key: string;
  size: number;
  md5: string;
}

export interface InventoryManifest {
  sourceBucket: string;
  /** The destination bucket's name (the manifest gives its ARN). */
  destinationBucket: string;
  /** When the inventory began scanning the bucket: the age of every row in it. */
  createdAt: Date;
  format: InventoryFormat;
  /** CSV: the column names in file order. Parquet/ORC: the column names of the schema message. */
  columns: string[];
  fileSchema: string;
  files: InventoryDataFile[];
}

/** Column names of a fileSchema: "Bucket, Key, Size" (CSV) or "message s3.inventory { required binary bucket (STRING); ... }". */
export function schemaColumns(format: InventoryFormat, fileSchema: string): string[] {
  if (format === 'CSV') return fileSchema.split(',').map((c) => c.trim()).filter(Boolean);
  if (format === 'Parquet') {
    const body = /\{([\s\S]*)\}/.exec(fileSchema)?.[1] ?? '';
    return body
      .split(';')
      .map((field) => /^\s*(?:required|optional|repeated)\s+\w+\s+(\w+)/.exec(field)?.[1])
      .filter((name): name is string => name !== undefined);
  }
  // ORC: "struct<bucket:string,key:string,...>"
  return [...fileSchema.matchAll(/(\w+):/g)].map((m) => m[1]!);
}

export function parseManifest(text: string, where: string): InventoryManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InventoryError('manifest-invalid', `${where} is not JSON: ${(error as Error).message}`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.join('.') || '(root)';
    throw new InventoryError('manifest-invalid', `${where}: ${path}: ${issue.message}`);
  }
  const m = parsed.data;
  return {
    sourceBucket: m.sourceBucket,
    destinationBucket: m.destinationBucket.replace(/^arn:[^:]+:s3:::/, ''),
    createdAt: new Date(Number(m.creationTimestamp)),
    format: m.fileFormat,
    columns: schemaColumns(m.fileFormat, m.fileSchema),
    fileSchema: m.fileSchema,
    files: m.files.map((f) => ({ key: f.key, size: f.size, md5: f.MD5checksum.toLowerCase() })),
  };
}

/** manifest.checksum holds the MD5 hex of manifest.json's bytes; a mismatch means a torn or tampered report. */
export function verifyManifestChecksum(manifestBytes: Uint8Array, checksumText: string, where: string): void {
  const want = checksumText.trim().toLowerCase();
  const got = createHash('md5').update(manifestBytes).digest('hex');
  if (want !== got) {
    throw new InventoryError('checksum-mismatch', `${where}: manifest.checksum says ${want || '(empty)'}, manifest.json hashes to ${got}: the report is incomplete or altered`);
  }
}

const REPORT_FOLDER = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z$/;

/** A manifest found in a listing of the destination, with the parts of its path. */
export interface ManifestLocation {
  configId: string;
  /** The folder name, YYYY-MM-DDTHH-MMZ. */
  folder: string;
  key: string;
  checksumKey: string;
}

function folderTime(folder: string): number {
  const [date, time] = folder.slice(0, -1).split('T') as [string, string];
  return Date.parse(`${date}T${time.replace('-', ':')}:00Z`);
}

/**
 * The newest manifest for `sourceBucket` among listed keys under `prefix` (the configuration's destination
 * prefix, without the bucket). `configId` narrows to one configuration; otherwise the newest of all wins.
 * Folders that do not match the report layout (data/, hive/, anything else) are ignored.
 */
export function newestManifest(keys: Iterable<string>, prefix: string, sourceBucket: string, configId?: string): ManifestLocation | undefined {
  const base = `${prefix ? `${prefix.replace(/\/+$/, '')}/` : ''}${sourceBucket}/`;
  let best: ManifestLocation | undefined;
  for (const key of keys) {
    if (!key.startsWith(base) || !key.endsWith('/manifest.json')) continue;
    const parts = key.slice(base.length).split('/');
    if (parts.length !== 3) continue;
    const [config, folder] = parts as [string, string, string];
    if (!REPORT_FOLDER.test(folder) || (configId !== undefined && config !== configId)) continue;
    if (!best || folderTime(folder) > folderTime(best.folder) || (folder === best.folder && config < best.configId)) {
      best = { configId: config, folder, key, checksumKey: key.replace(/manifest\.json$/, 'manifest.checksum') };
    }
  }
  return best;
}

/** Splits `s3://bucket/prefix` into its parts; the prefix has no trailing slash. */
export function parseInventoryLocation(location: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(location);
  if (!match) {
    throw new InventoryError('location-invalid', `expected the inventory destination as s3://<bucket>[/<prefix>], got ${JSON.stringify(location)}`);
  }
  return { bucket: match[1]!, prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
}
