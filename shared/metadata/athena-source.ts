// The metadata-table tier as an InventorySource: one Athena query of the bucket's S3 Metadata live
// inventory table, its result read as the rows of a one-file "report" made at the query's time
// minus the table's lag. The inventory scan (decide, evaluate, record only changes, reconcile)
// then runs unchanged, and decides every row without a HeadObject (decide.ts, rule M).
//
// Athena API reference: StartQueryExecution (QueryString, WorkGroup, ResultConfiguration.
// OutputLocation; ClientRequestToken is an idempotency token the SDK fills in and keeps across its
// retries, so a retried start never runs the query twice), GetQueryExecution (Status.State QUEUED |
// RUNNING | SUCCEEDED | FAILED | CANCELLED, StateChangeReason, ResultConfiguration.OutputLocation),
// StopQueryExecution. A SELECT's result is also written by Athena as a CSV file at OutputLocation:
// a header row of column names, every value quoted, NULL as an empty unquoted field. That file is
// read as a stream (one GetObject) instead of GetQueryResults, which pages 1,000 rows a request:
// a million requests for a billion objects.
import { GetQueryExecutionCommand, StartQueryExecutionCommand, StopQueryExecutionCommand, type AthenaClient, type QueryExecution } from '@aws-sdk/client-athena';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { setTimeout as sleep } from 'node:timers/promises';
import { isTransientServiceError } from '../aws/errors.ts';
import { retrying } from '../aws/retry.ts';
import { InventoryError } from '../inventory/errors.ts';
import type { InventoryRow } from '../inventory/row.ts';
import { DATA_FILE_RANGE_BYTES, rangedBody, type InventoryReport, type InventorySource } from '../inventory/source.ts';
import { currentObjectsQuery, metadataTableOf, RESULT_COLUMNS, rowFromResult, type MetadataTable, type ResultCells } from './query.ts';

export interface MetadataTableOptions {
  table?: Partial<MetadataTable>;
  workGroup: string;
  /** s3://bucket/prefix/ for the result; undefined: the workgroup's own output location. */
  outputLocation?: string;
  /** How far the table may lag behind the bucket (S3: "typically within one hour"). */
  lagMs: number;
  /** Give up (and stop the query) after this long. */
  timeoutMs: number;
  /** The scan's prefix: pushed into the query. */
  prefix?: string;
  /** First and longest wait between GetQueryExecution polls. */
  pollMs?: { first: number; max: number };
  clock?: () => Date;
}

export const DEFAULT_METADATA_LAG_MS = 60 * 60_000;

function s3Location(url: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!match) throw new InventoryError('location-invalid', `Athena answered an output location that is not s3://bucket/key: ${url}`);
  return { bucket: match[1]!, key: match[2]! };
}

/** Polls until the query ends. The Athena SDK has no waiter for query executions. */
async function finished(athena: AthenaClient, id: string, options: MetadataTableOptions): Promise<QueryExecution> {
  const { first, max } = options.pollMs ?? { first: 250, max: 5_000 };
  const deadline = Date.now() + options.timeoutMs;
  for (let wait = first; ; wait = Math.min(max, wait * 2)) {
    const { QueryExecution: execution } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = execution?.Status?.State;
    if (state === 'SUCCEEDED') return execution!;
    if (state === 'FAILED' || state === 'CANCELLED') {
      const reason = execution?.Status?.StateChangeReason ?? execution?.Status?.AthenaError?.ErrorMessage ?? 'no reason given';
      throw new InventoryError('query-failed', `the Athena query ${id} ${state.toLowerCase()}: ${reason}`);
    }
    if (Date.now() + wait > deadline) {
      await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
      throw new InventoryError('query-failed', `the Athena query ${id} was still ${state ?? 'starting'} after ${Math.round(options.timeoutMs / 1000)} s: stopped`);
    }
    await sleep(wait);
  }
}

/**
 * The result file's bytes by ranged GETs, as inventory data files are read (one GET streamed at the
 * audit's pace would sit idle and be cut by the socket timeout). Its size comes from the first
 * range's Content-Range: Athena names none, and a HeadObject would cost a request per query.
 */
async function* resultBytes(s3: S3Client, bucket: string, key: string): AsyncGenerator<Uint8Array> {
  const first = await retrying(
    `GetObject s3://${bucket}/${key} bytes 0-`,
    async () => {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${DATA_FILE_RANGE_BYTES - 1}` }));
      return { bytes: await got.Body!.transformToByteArray(), range: got.ContentRange, etag: got.ETag };
    },
    { attempts: 4, baseMs: 200, capMs: 4_000 },
    isTransientServiceError,
  );
  yield first.bytes;
  const size = Number(/\/(\d+)$/.exec(first.range ?? '')?.[1] ?? first.bytes.length);
  yield* rangedBody(s3, bucket, { key, size, md5: '' }, DATA_FILE_RANGE_BYTES, { from: first.bytes.length, ...(first.etag ? { etag: first.etag } : {}) });
}

export function athenaMetadataSource(athena: AthenaClient, s3: S3Client, options: MetadataTableOptions): InventorySource {
  const clock = options.clock ?? (() => new Date());

  async function newest(bucket: string): Promise<InventoryReport> {
    const table = metadataTableOf(bucket, options.table);
    const startedAt = clock();
    const { QueryExecutionId: id } = await athena.send(
      new StartQueryExecutionCommand({
        QueryString: currentObjectsQuery(table, bucket, options.prefix),
        WorkGroup: options.workGroup,
        ...(options.outputLocation ? { ResultConfiguration: { OutputLocation: options.outputLocation } } : {}),
      }),
    );
    if (!id) throw new InventoryError('query-failed', 'Athena started no query (no QueryExecutionId)');
    const execution = await finished(athena, id, options);
    const output = execution.ResultConfiguration?.OutputLocation;
    if (!output) throw new InventoryError('query-failed', `the Athena query ${id} succeeded without an output location`);
    const result = s3Location(output);
    return {
      evidence: 'metadata-table',
      destination: { bucket: result.bucket, prefix: '' },
      location: { configId: `${table.namespace}.${table.table}`, folder: id, key: result.key, checksumKey: '' },
      manifest: {
        sourceBucket: bucket,
        destinationBucket: result.bucket,
        createdAt: new Date(startedAt.getTime() - options.lagMs),
        format: 'CSV',
        columns: [...RESULT_COLUMNS],
        fileSchema: RESULT_COLUMNS.join(', '),
        // Athena writes the file itself and names no size or checksum (the CSV reader needs neither).
        files: [{ key: result.key, size: 0, md5: '' }],
      },
    };
  }

  const source: InventorySource = {
    newest,
    async at(bucket, manifestKey) {
      throw new InventoryError('location-invalid', `a metadata-table scan of ${bucket} runs a new query; it cannot read ${manifestKey}`);
    },
    async *rows(report, file) {
      const where = `s3://${report.destination.bucket}/${file.key}`;
      const parser = Readable.from(resultBytes(s3, report.destination.bucket, file.key)).pipe(parse({ columns: true, bom: true, relax_column_count: false }));
      let checked = false;
      for await (const record of parser as AsyncIterable<Record<string, string>>) {
        if (!checked) {
          const missing = RESULT_COLUMNS.filter((c) => !(c in record));
          if (missing.length > 0) throw new InventoryError('schema-missing-column', `${where}: the query result has no ${missing.join(', ')} column`);
          checked = true;
        }
        yield rowFromResult(report.manifest.sourceBucket, record as ResultCells, where) satisfies InventoryRow;
      }
    },
    async *allRows(report) {
      for (const file of report.manifest.files) yield* source.rows(report, file);
    },
  };
  return source;
}
