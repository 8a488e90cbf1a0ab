// S3 adapter: finds the newest inventory report of a bucket in its destination, verifies it, and
// streams its rows. Every read is a plain S3 call (ListObjectsV2 by delimiter, GetObject, ranged
// GetObject for data files), so it works the same against AWS, LocalStack and the emulator.
import { GetObjectCommand, NoSuchKey, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import type { AsyncBuffer } from 'hyparquet';
import { errorFacts, isTransientServiceError } from '../aws/errors.ts';
import { retrying, type RetryPolicy } from '../aws/retry.ts';
import { readCsvRows } from './csv-reader.ts';
import { InventoryError } from './errors.ts';
import { newestManifest, parseManifest, verifyManifestChecksum, type InventoryDataFile, type InventoryManifest, type ManifestLocation } from './manifest.ts';
import { readParquetRows } from './parquet-reader.ts';
import type { InventoryRow } from './row.ts';

export interface InventorySourceOptions {
  /** Bytes per ranged GetObject of a CSV data file (default DATA_FILE_RANGE_BYTES; tests use small ranges). */
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
  /**
   * A metadata-table run that asked only for what changed since an earlier verified run: its rows
   * are only the changed (and re-checked) objects; `vanished`, filled as the rows are read, are the
   * keys the journal names and the live table no longer lists (the reconciliation's candidates).
   */
  metadataChanges?: { since: string; vanished: string[] };
  /** Why a metadata-table run read every current object instead. */
  fullReadBecause?: string;
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

/** Reads the rows of one Parquet data file (parquet-reader.ts readParquetRows). */
export type ParquetRows = (file: AsyncBuffer, where: string) => AsyncIterable<InventoryRow>;

/** Reads CSV and Parquet reports: the CLI's source. */
export const s3InventorySource = (s3: S3Client, destination: InventoryDestination, options: InventorySourceOptions = {}): InventorySource =>
  inventorySource(s3, destination, options, readParquetRows);

/**
 * Reads CSV reports only: the Lambda functions' source. Without the Parquet reader (hyparquet)
 * the worker's bundle stays within its 1 MiB target (test/unit/bundle.test.ts); a Parquet report
 * is refused with a clear error, and the sweep lists such a bucket instead.
 */
export const s3CsvInventorySource = (s3: S3Client, destination: InventoryDestination, options: InventorySourceOptions = {}): InventorySource =>
  inventorySource(s3, destination, options);

function inventorySource(s3: S3Client, destination: InventoryDestination, options: InventorySourceOptions, parquet?: ParquetRows): InventorySource {
  const rangeBytes = options.rangeBytes ?? DATA_FILE_RANGE_BYTES;
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
    if (manifest.format === 'Parquet' && !parquet) {
      throw new InventoryError(
        'unsupported-format',
        `${where} is a Parquet report: the Lambda functions read CSV reports (choose CSV for the configuration), sseguard scan --inventory reads both`,
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
        yield* readCsvRows(rangedBody(s3, destination.bucket, file, rangeBytes), report.manifest.columns, { where, md5: file.md5 });
        return;
      }
      yield* parquet!(rangedFile(s3, destination.bucket, file), where);
    },

    async *allRows(report) {
      for (const file of report.manifest.files) yield* source.rows(report, file);
    },
  };
  return source;
}

/** Bytes per ranged GET of a CSV data file: memory holds this twice (the range read and the next one on its way). */
export const DATA_FILE_RANGE_BYTES = 8 * 1024 * 1024;
/** Weather on one range (throttling, 5xx, a body cut off or stalled) is retried, that range only. */
const RANGE_RETRY: RetryPolicy = { attempts: 4, baseMs: 200, capMs: 4_000 };

/**
 * A CSV data file's bytes by ranged GETs, each read whole at network speed, the next one fetched
 * while the rows of this one are audited. One GET streamed at the audit's pace would sit paused
 * while DynamoDB or HEADs are slow, and the socket's idle timeout would end it mid-file (measured
 * on the emulator: bench/inventory-worker-bench.ts). Every range after the first is pinned to the
 * first's ETag (If-Match): a file replaced mid-read fails instead of mixing two files.
 */
export async function* rangedBody(
  s3: S3Client,
  bucket: string,
  file: InventoryDataFile,
  rangeBytes = DATA_FILE_RANGE_BYTES,
  options: { from?: number; etag?: string } = {},
): AsyncGenerator<Uint8Array> {
  if (file.size === 0) return;
  let etag: string | undefined = options.etag;
  const fetchRange = (start: number) =>
    retrying(
      `GetObject s3://${bucket}/${file.key} bytes ${start}-`,
      async () => {
        const last = Math.min(file.size, start + rangeBytes) - 1;
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: file.key, Range: `bytes=${start}-${last}`, ...(etag ? { IfMatch: etag } : {}) }));
        etag ??= got.ETag;
        return got.Body!.transformToByteArray();
      },
      RANGE_RETRY,
      rangeWeather,
    );
  const from = options.from ?? 0;
  let next: Promise<Uint8Array> | undefined = from < file.size ? fetchRange(from) : undefined;
  for (let start = from; next; start += rangeBytes) {
    const bytes: Uint8Array = await next;
    next = start + rangeBytes < file.size ? fetchRange(start + rangeBytes) : undefined;
    // Keep the prefetch from rejecting unobserved if the consumer stops early.
    next?.catch(() => undefined);
    yield bytes;
  }
}

/**
 * An object whose size nobody gave (an Athena query result, a Batch completion report), read as a
 * data file is: by ranged GETs, its size from the first range's Content-Range (a HeadObject would
 * cost a request more). An empty object has no range to read (416): no bytes. `from`: start at this
 * byte (one past the end: no bytes).
 */
export async function* rangedObjectBytes(s3: S3Client, bucket: string, key: string, rangeBytes = DATA_FILE_RANGE_BYTES, from = 0): AsyncGenerator<Uint8Array> {
  const first = await retrying(
    `GetObject s3://${bucket}/${key} bytes ${from}-`,
    async () => {
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${from}-${from + rangeBytes - 1}` }));
        return { bytes: await got.Body!.transformToByteArray(), range: got.ContentRange, etag: got.ETag };
      } catch (error) {
        if (errorFacts(error).status === 416) return undefined;
        throw error;
      }
    },
    RANGE_RETRY,
    rangeWeather,
  );
  if (!first) return;
  yield first.bytes;
  const size = Number(/\/(\d+)$/.exec(first.range ?? '')?.[1] ?? first.bytes.length);
  yield* rangedBody(s3, bucket, { key, size, md5: '' }, rangeBytes, { from: from + first.bytes.length, ...(first.etag ? { etag: first.etag } : {}) });
}

/** Weather on a range: the service's (throttling, 5xx, timeouts), or a body that ended early or stalled after its headers (the SDK does not retry that itself). */
const rangeWeather = (error: unknown): boolean => isTransientServiceError(error) || isBodyReadFailure(error);

const isBodyReadFailure = (error: unknown): boolean => {
  const { code, name, message } = (error ?? {}) as { code?: string; name?: string; message?: string };
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE'].includes(code ?? '') || name === 'TimeoutError' || /aborted|premature close|socket hang up/i.test(message ?? '');
};

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
