// S3 adapter: finds the newest inventory report of a bucket in its destination, verifies it, and
// streams its rows. Every read is a plain S3 call (ListObjectsV2 by delimiter, GetObject, ranged
// GetObject for data files), so it works the same against AWS, LocalStack and the emulator.
import { GetObjectCommand, NoSuchKey, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import type { AsyncBuffer } from 'hyparquet';
import { readCsvRows } from './csv-reader.ts';
import { InventoryError } from './errors.ts';
import { newestManifest, parseManifest, verifyManifestChecksum, type InventoryDataFile, type InventoryManifest, type ManifestLocation } from './manifest.ts';
import { readParquetRows } from './parquet-reader.ts';
import type { InventoryRow } from './row.ts';
import { retrying, type RetryPolicy } from '../aws/retry.ts';

/**
 * A CSV data file is fetched in ranges of this many bytes, each read whole before its rows are parsed.
 * One streamed GetObject per file would leave its socket idle while the audit works through a chunk
 * of rows (HeadObject calls, DynamoDB writes: seconds at fleet scale), and the client's socket idle
 * timeout then ends the body midway. 8 MiB bounds the memory; GetObject with Range is one request
 * per range (a 5 GB file: ~600 GET-class requests, $0.0002).
 */
const RANGE_BYTES = 8 * 1024 * 1024;
/** A range that fails (throttling, 5xx, a dropped body) is fetched again, with backoff, a bounded number of times. */
const RANGE_RETRY: RetryPolicy = { attempts: 6, baseMs: 200, capMs: 5_000 };

export interface InventorySourceOptions {
  /** Bytes per ranged GetObject of a CSV data file (tests use small ranges). */
  rangeBytes?: number;
}

export interface InventoryDestination {
  bucket: string;
  /** The configuration's destination prefix, without the source bucket. */
  prefix: string;
}

export interface InventoryReport {
  /** What the rows are: an S3 Inventory report (the default), or an S3 Metadata table's query result. */
  evidence?: 'inventory' | 'metadata-table';
  destination: InventoryDestination;
  location: ManifestLocation;
  manifest: InventoryManifest;
}

export interface InventorySource {
  /** The newest verified report for `bucket`; throws InventoryError when there is none or it cannot be used. */
  newest(bucket: string, options?: { configId?: string }): Promise<InventoryReport>;
  /** The report whose manifest.json is at `manifestKey` (a queue message names it), verified the same way. */
  at(bucket: string, manifestKey: string): Promise<InventoryReport>;
  /** The rows of one data file of the report: one queue message each in Lambda. */
  rows(report: InventoryReport, file: InventoryDataFile): AsyncIterable<InventoryRow>;
  /** Every row of the report, file after file. */
  allRows(report: InventoryReport): AsyncIterable<InventoryRow>;
}

const url = (bucket: string, key: string) => `s3://${bucket}/${key}`;

export function s3InventorySource(s3: S3Client, destination: InventoryDestination, options: InventorySourceOptions = {}): InventorySource {
  const rangeBytes = options.rangeBytes ?? RANGE_BYTES;
  const base = (bucket: string) => `${destination.prefix ? `${destination.prefix}/` : ''}${bucket}/`;

  async function folders(prefix: string): Promise<string[]> {
    const found: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: destination.bucket, Prefix: prefix, Delimiter: '/' })) {
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) found.push(p.Prefix);
    }
    return found;
  }

  async function getBytes(key: string): Promise<Uint8Array> {
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: destination.bucket, Key: key }));
      return await got.Body!.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey) throw new InventoryError('no-manifest', `${url(destination.bucket, key)} does not exist`);
      throw error;
    }
  }

  async function read(bucket: string, location: ManifestLocation): Promise<InventoryReport> {
    const where = url(destination.bucket, location.key);
    const manifestBytes = await getBytes(location.key);
    const checksum = new TextDecoder().decode(await getBytes(location.checksumKey));
    verifyManifestChecksum(manifestBytes, checksum, where);
    const manifest = parseManifest(new TextDecoder().decode(manifestBytes), where);
    if (manifest.sourceBucket !== bucket) {
      throw new InventoryError('wrong-bucket', `${where} is the inventory of ${manifest.sourceBucket}, not of ${bucket}`);
    }
    if (manifest.format === 'ORC') {
      throw new InventoryError(
        'unsupported-format',
        `${where} is an ORC report: ORC is not supported, choose CSV or Parquet for the inventory configuration (sseguard inventory setup --format CSV|Parquet)`,
      );
    }
    return { destination, location, manifest };
  }

  async function newest(bucket: string, options: { configId?: string } = {}): Promise<InventoryReport> {
    // Two delimiter listings (configurations, then report folders) instead of listing data/: a
    // destination holds a folder per day but possibly millions of data files.
    const configs = (await folders(base(bucket))).filter((p) => options.configId === undefined || p === `${base(bucket)}${options.configId}/`);
    const candidates: string[] = [];
    for (const config of configs) for (const folder of await folders(config)) candidates.push(`${folder}manifest.json`);
    const location = newestManifest(candidates, destination.prefix, bucket, options.configId);
    if (!location) {
      const where = url(destination.bucket, `${base(bucket)}${options.configId ? `${options.configId}/` : ''}`);
      throw new InventoryError('no-manifest', `no inventory report for ${bucket} under ${where} (expected <config-id>/YYYY-MM-DDTHH-MMZ/manifest.json)`);
    }
    return read(bucket, location);
  }

  async function at(bucket: string, manifestKey: string): Promise<InventoryReport> {
    const location = newestManifest([manifestKey], destination.prefix, bucket);
    if (!location) {
      throw new InventoryError(
        'location-invalid',
        `${url(destination.bucket, manifestKey)} is not a manifest of ${bucket} in the layout <prefix>/${bucket}/<config-id>/YYYY-MM-DDTHH-MMZ/manifest.json`,
      );
    }
    return read(bucket, location);
  }

  const source: InventorySource = {
    newest,
    at,
    async *rows(report, file) {
      const where = url(destination.bucket, file.key);
      if (report.manifest.format === 'CSV') {
        yield* readCsvRows(byteRanges(s3, destination.bucket, file, rangeBytes), report.manifest.columns, { where, md5: file.md5 });
        return;
      }
      yield* readParquetRows(rangedFile(s3, destination.bucket, file), where);
    },

    async *allRows(report) {
      for (const file of report.manifest.files) yield* source.rows(report, file);
    },
  };
  return source;
}

/** A data file's bytes, one ranged GetObject at a time, each range read whole (see RANGE_BYTES). */
async function* byteRanges(s3: S3Client, bucket: string, file: InventoryDataFile, rangeBytes: number): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < file.size; start += rangeBytes) {
    const last = Math.min(file.size, start + rangeBytes) - 1;
    // The manifest's size and MD5 describe the file; a file that differs fails the MD5 check.
    yield await retrying(
      `GetObject s3://${bucket}/${file.key} bytes ${start}-${last}`,
      async () => {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: file.key, Range: `bytes=${start}-${last}` }));
        return got.Body!.transformToByteArray();
      },
      RANGE_RETRY,
    );
  }
}

/** A Parquet file in S3 read by byte ranges, never cached whole (the MD5 is not checked: that needs every byte). */
function rangedFile(s3: S3Client, bucket: string, file: InventoryDataFile): AsyncBuffer {
  return {
    byteLength: file.size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const last = (end ?? file.size) - 1;
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: file.key, Range: `bytes=${start}-${last}` }));
      const bytes = await got.Body!.transformToByteArray();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}
