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
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand, type AthenaClient, type QueryExecution } from '@aws-sdk/client-athena';
import { type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { setTimeout as sleep } from 'node:timers/promises';
import { InventoryError } from '../inventory/errors.ts';
import type { InventoryRow } from '../inventory/row.ts';
import { rangedObjectBytes, type InventoryReport, type InventorySource } from '../inventory/source.ts';
import { athenaTimestamp, changedObjectsQuery, currentObjectsQuery, journalCoverageQuery, metadataTableOf, RESULT_COLUMNS, rowFromResult, type MetadataTable, type ResultCells } from './query.ts';

/**
 * Where a run may start from: the evidence time of the bucket's last verified metadata-table run
 * (its changes since then are asked for), or why every current object must be read again.
 */
export type MetadataWatermark = { since: Date; reverifyPeriodMs: number } | { fullBecause: string };

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
  /** Asked before each query, with the run's evidence time: without it, or with `fullBecause`, every current object is read. */
  watermark?: (bucket: string, evidenceAt: Date) => Promise<MetadataWatermark>;
}

export const DEFAULT_METADATA_LAG_MS = 60 * 60_000;

function s3Location(url: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!match) throw new InventoryError('location-invalid', `Athena answered an output location that is not s3://bucket/key: ${url}`);
  return { bucket: match[1]!, key: match[2]! };
}

/** Polls until the query ends. The Athena SDK has no waiter for query executions. */
export async function finished(athena: AthenaClient, id: string, options: Pick<MetadataTableOptions, 'pollMs' | 'timeoutMs'>): Promise<QueryExecution> {
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

export function athenaMetadataSource(athena: AthenaClient, s3: S3Client, options: MetadataTableOptions): InventorySource {
  const clock = options.clock ?? (() => new Date());

  async function run(query: string): Promise<{ id: string; execution: QueryExecution }> {
    const { QueryExecutionId: id } = await athena.send(
      new StartQueryExecutionCommand({
        QueryString: query,
        WorkGroup: options.workGroup,
        ...(options.outputLocation ? { ResultConfiguration: { OutputLocation: options.outputLocation } } : {}),
      }),
    );
    if (!id) throw new InventoryError('query-failed', 'Athena started no query (no QueryExecutionId)');
    return { id, execution: await finished(athena, id, options) };
  }

  /** Whether the journal still holds every record from `since` on (records expire): else why not. */
  async function journalCovers(table: MetadataTable, bucket: string, since: Date): Promise<string | undefined> {
    const { id } = await run(journalCoverageQuery(table, bucket));
    const page = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 2 }));
    const value = page.ResultSet?.Rows?.[1]?.Data?.[0]?.VarCharValue;
    if (value === undefined || value === '') return `the journal holds no record of ${bucket}`;
    const oldest = athenaTimestamp(value, `the journal query ${id}`);
    return oldest.getTime() > since.getTime() ? `the journal's oldest record (${oldest.toISOString()}) is after the last verified run's ${since.toISOString()}: records may have expired` : undefined;
  }

  async function newest(bucket: string): Promise<InventoryReport> {
    const table = metadataTableOf(bucket, options.table);
    const startedAt = clock();
    const evidenceAt = new Date(startedAt.getTime() - options.lagMs);
    let watermark = options.watermark ? await options.watermark(bucket, evidenceAt) : undefined;
    if (watermark && 'since' in watermark) {
      const gap = await journalCovers(table, bucket, watermark.since);
      if (gap) watermark = { fullBecause: gap };
    }
    const since = watermark && 'since' in watermark ? watermark : undefined;
    const query = since
      ? changedObjectsQuery(table, bucket, since.since, { periodMs: since.reverifyPeriodMs, afterMs: since.since.getTime(), untilMs: evidenceAt.getTime() }, options.prefix)
      : currentObjectsQuery(table, bucket, options.prefix);
    const { id, execution } = await run(query);
    const output = execution.ResultConfiguration?.OutputLocation;
    if (!output) throw new InventoryError('query-failed', `the Athena query ${id} succeeded without an output location`);
    const result = s3Location(output);
    return {
      evidence: 'metadata-table',
      ...(since ? { metadataChanges: { since: since.since.toISOString(), vanished: [] } } : {}),
      ...(watermark && 'fullBecause' in watermark ? { fullReadBecause: watermark.fullBecause } : {}),
      destination: { bucket: result.bucket, prefix: '' },
      location: { configId: `${table.namespace}.${table.table}`, folder: id, key: result.key, checksumKey: '' },
      manifest: {
        sourceBucket: bucket,
        destinationBucket: result.bucket,
        createdAt: evidenceAt,
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
      const parser = Readable.from(rangedObjectBytes(s3, report.destination.bucket, file.key)).pipe(parse({ columns: true, bom: true, relax_column_count: false }));
      const changes = report.metadataChanges;
      const expected = changes ? [...RESULT_COLUMNS, 'sseguard_change'] : RESULT_COLUMNS;
      let checked = false;
      for await (const record of parser as AsyncIterable<Record<string, string>>) {
        if (!checked) {
          const missing = expected.filter((c) => !(c in record));
          if (missing.length > 0) throw new InventoryError('schema-missing-column', `${where}: the query result has no ${missing.join(', ')} column`);
          checked = true;
        }
        if (changes) {
          const change = record.sseguard_change;
          if (change === 'vanished') {
            if (!record.key) throw new InventoryError('data-file-invalid', `${where}: a vanished row without key`);
            changes.vanished.push(record.key);
            continue;
          }
          if (change !== 'changed') throw new InventoryError('data-file-invalid', `${where}: sseguard_change ${JSON.stringify(change)} is neither changed nor vanished`);
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
