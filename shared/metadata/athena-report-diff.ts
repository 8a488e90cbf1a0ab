// The report diff in Athena, for a previous report too large to diff in one worker
// (shared/audit/inventory-baseline.ts): the documented external table over the configuration's
// hive/ folder (created if missing), a partition per report, then the diff query of
// diff-query.ts. Its answer is proportional to the change, not to the bucket: the changed and added
// rows' identities (key and version) and the vanished keys, read by GetQueryResults page by page
// (NextToken; the first row of the first page is the header).
//
// API reference: StartQueryExecution (QueryString, WorkGroup, ResultConfiguration.OutputLocation,
// QueryExecutionContext.Database), GetQueryExecution (Status.State), GetQueryResults (ResultSet.Rows
// of Data[].VarCharValue, NextToken, MaxResults ≤ 1000). Polling and its time limit are the metadata
// tier's (shared/metadata/athena-source.ts finished).
import { createHash } from 'node:crypto';
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand, type AthenaClient } from '@aws-sdk/client-athena';
import { finished } from './athena-source.ts';
import { athenaAddPartition, athenaInventoryTableDdl, athenaRangeKeysQuery, athenaReportDiffQuery, sqlColumnName, type AthenaInventoryTable } from '../inventory/diff-query.ts';
import { InventoryError } from '../inventory/errors.ts';
import { rowIdentity, type ReportChanges } from '../inventory/report-diff.ts';
import type { InventoryReport } from '../inventory/source.ts';

export interface AthenaDiffOptions {
  table: AthenaInventoryTable;
  workGroup: string;
  /** s3://bucket/prefix/ for results; undefined: the workgroup's. */
  outputLocation?: string;
  timeoutMs: number;
  pollMs?: { first: number; max: number };
}


/** The configuration's hive/ folder: s3://<destination>/<prefix>/<source-bucket>/<config-id>/hive/. */
export const hiveLocation = (report: InventoryReport) =>
  `s3://${report.destination.bucket}/${report.destination.prefix ? `${report.destination.prefix}/` : ''}${report.manifest.sourceBucket}/${report.location.configId}/hive/`;

/** Starts one query in the table's database; `token` (ClientRequestToken) makes a repeated start the same query. Not waited for. */
async function startQuery(athena: AthenaClient, query: string, options: AthenaDiffOptions, token?: string): Promise<string> {
  const { QueryExecutionId: id } = await athena.send(
    new StartQueryExecutionCommand({
      QueryString: query,
      WorkGroup: options.workGroup,
      QueryExecutionContext: { Database: options.table.database },
      ...(token ? { ClientRequestToken: token } : {}),
      ...(options.outputLocation ? { ResultConfiguration: { OutputLocation: options.outputLocation } } : {}),
    }),
  );
  if (!id) throw new InventoryError('query-failed', 'Athena started no query (no QueryExecutionId)');
  return id;
}

/** Starts a query and waits for it to end. */
async function run(athena: AthenaClient, query: string, options: AthenaDiffOptions): Promise<string> {
  const id = await startQuery(athena, query, options);
  await finished(athena, id, options);
  return id;
}

export async function athenaReportChanges(athena: AthenaClient, previous: InventoryReport, current: InventoryReport, options: AthenaDiffOptions): Promise<ReportChanges> {
  if (current.manifest.format === 'ORC') throw new InventoryError('unsupported-format', 'ORC reports are not diffed');
  const hive = hiveLocation(current);
  await run(athena, athenaInventoryTableDdl(options.table, current.manifest.format, current.manifest.columns, hive), options);
  for (const report of [previous, current]) await run(athena, athenaAddPartition(options.table, report.location.folder, hive), options);
  const id = await run(athena, athenaReportDiffQuery(options.table, previous.location.folder, current.location.folder, current.manifest.columns), options);

  // CSV reports URL-encode keys (form encoding); Parquet's are plain.
  const decode = (key: string) => (current.manifest.format === 'CSV' ? decodeURIComponent(key.replace(/\+/g, ' ')) : key);
  const changes: ReportChanges = { changed: new Set(), vanished: [] };
  let header: string[] | undefined;
  let NextToken: string | undefined;
  do {
    const page = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1000, ...(NextToken ? { NextToken } : {}) }));
    for (const row of page.ResultSet?.Rows ?? []) {
      const cells = (row.Data ?? []).map((d) => d.VarCharValue);
      if (!header) {
        header = cells.map((c) => c ?? '');
        continue;
      }
      const at = (name: string) => cells[header!.indexOf(name)];
      const key = at(sqlColumnName('Key'));
      const change = at('sseguard_change');
      if (key === undefined || change === undefined) throw new InventoryError('query-failed', `the diff query ${id} answered a row without key or sseguard_change`);
      const version = at(sqlColumnName('VersionId'));
      if (change === 'vanished') changes.vanished.push(decode(key));
      else changes.changed.add(rowIdentity(decode(key), version && version !== 'null' ? version : undefined));
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return changes;
}

/**
 * The Lambda tier's diff (shared/audit/inventory-diff-sweep.ts): the table and both partitions
 * (short DDL queries, waited for), then the diff query started and NOT waited for: a delayed
 * message polls it. The start's ClientRequestToken is the two reports' identity, so a redelivered
 * start message gets the query already started instead of a second one ("If another
 * StartQueryExecution request is received, the same response is returned").
 */
export async function startReportDiff(athena: AthenaClient, previous: InventoryReport, current: InventoryReport, options: AthenaDiffOptions): Promise<string> {
  if (current.manifest.format === 'ORC') throw new InventoryError('unsupported-format', 'ORC reports are not diffed');
  const hive = hiveLocation(current);
  await run(athena, athenaInventoryTableDdl(options.table, current.manifest.format, current.manifest.columns, hive), options);
  for (const report of [previous, current]) await run(athena, athenaAddPartition(options.table, report.location.folder, hive), options);
  return startQuery(
    athena,
    athenaReportDiffQuery(options.table, previous.location.folder, current.location.folder, current.manifest.columns),
    options,
    createHash('sha256').update(`${previous.location.key}\n${current.location.key}`).digest('hex'),
  );
}

/**
 * The table and the report's partition, for a report swept in full (no diff started them): short
 * DDL queries, waited for, as the diff's start runs them ("IF NOT EXISTS": again is harmless).
 */
export async function prepareReportTable(athena: AthenaClient, report: InventoryReport, options: AthenaDiffOptions): Promise<void> {
  if (report.manifest.format === 'ORC') throw new InventoryError('unsupported-format', 'ORC reports are not queried in Athena');
  const hive = hiveLocation(report);
  await run(athena, athenaInventoryTableDdl(options.table, report.manifest.format, report.manifest.columns, hive), options);
  await run(athena, athenaAddPartition(options.table, report.location.folder, hive), options);
}

/**
 * Starts the query of one key range's listed keys (diff-query.ts rangeKeysQuery), not waited for:
 * a delayed message polls it, as the diff's. Its ClientRequestToken is the report's and the range's
 * identity, so a redelivered range message gets the query already started.
 */
export async function startRangeKeys(athena: AthenaClient, report: InventoryReport, range: { index: number; from?: string; to?: string }, options: AthenaDiffOptions, attempt = 1): Promise<string> {
  if (report.manifest.format === 'ORC') throw new InventoryError('unsupported-format', 'ORC reports are not queried in Athena');
  return startQuery(
    athena,
    athenaRangeKeysQuery(options.table, report.location.folder, report.manifest.columns, report.manifest.format, range),
    options,
    // A later attempt (the earlier query failed) is a new query: its token names the attempt.
    createHash('sha256').update(JSON.stringify(['range-keys', report.location.key, range.index, range.from ?? null, range.to ?? null, ...(attempt > 1 ? [attempt] : [])])).digest('hex'),
  );
}

export type DiffQueryState =
  | { state: 'running' }
  | { state: 'succeeded'; result: { bucket: string; key: string } }
  | { state: 'failed'; reason: string };

/** One look at the diff query (GetQueryExecution); a succeeded one names its result file, `<id>.csv` at the output location. */
export async function reportDiffState(athena: AthenaClient, id: string): Promise<DiffQueryState> {
  const { QueryExecution: execution } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
  const state = execution?.Status?.State;
  if (state === 'FAILED' || state === 'CANCELLED') {
    const reason = execution?.Status?.StateChangeReason ?? execution?.Status?.AthenaError?.ErrorMessage ?? 'no reason given';
    return { state: 'failed', reason: `the Athena diff query ${id} ${state.toLowerCase()}: ${reason}` };
  }
  if (state !== 'SUCCEEDED') return { state: 'running' };
  const output = execution?.ResultConfiguration?.OutputLocation;
  const match = output ? /^s3:\/\/([^/]+)\/(.+)$/.exec(output) : null;
  if (!match) return { state: 'failed', reason: `the Athena diff query ${id} succeeded without an s3:// result file (${output ?? 'none'})` };
  return { state: 'succeeded', result: { bucket: match[1]!, key: match[2]! } };
}

export async function stopReportDiff(athena: AthenaClient, id: string): Promise<void> {
  await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
}
