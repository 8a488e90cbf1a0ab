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
import { GetQueryResultsCommand, StartQueryExecutionCommand, type AthenaClient } from '@aws-sdk/client-athena';
import { finished } from './athena-source.ts';
import { athenaAddPartition, athenaInventoryTableDdl, athenaReportDiffQuery, sqlColumnName, type AthenaInventoryTable } from '../inventory/diff-query.ts';
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

async function run(athena: AthenaClient, query: string, options: AthenaDiffOptions): Promise<string> {
  const { QueryExecutionId: id } = await athena.send(
    new StartQueryExecutionCommand({
      QueryString: query,
      WorkGroup: options.workGroup,
      QueryExecutionContext: { Database: options.table.database },
      ...(options.outputLocation ? { ResultConfiguration: { OutputLocation: options.outputLocation } } : {}),
    }),
  );
  if (!id) throw new InventoryError('query-failed', 'Athena started no query (no QueryExecutionId)');
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
