// `sseguard report --format ocsf-parquet --out PATH`: the OCSF Compliance Findings of `--format ocsf`
// as Parquet (shared/report/ocsf-parquet.ts). PATH ending in `.parquet` is one file; any other PATH is
// a folder laid out as a Security Lake custom source reads it,
//   PATH/region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/sseguard-<time>.parquet
// (upload the folder's content under s3://<lake bucket>/ext/<source>/). Findings are read page by page
// and written a row group at a time, so memory holds at most a row group per partition, not the report.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileWriter } from 'hyparquet-writer';
import type { FindingFilter, StoredFinding } from '#shared/findings/store.ts';
import { findingOcsf, type OcsfContext } from '#shared/report/ocsf.ts';
import { OcsfParquetWriter, securityLakePartition, type OcsfEvent } from '#shared/report/ocsf-parquet.ts';

const ROW_GROUP = 10_000;

export interface ParquetReport {
  /** Each file written and its rows. */
  files: { path: string; rows: number }[];
}

export async function writeOcsfParquet(findings: (filter: FindingFilter) => AsyncIterable<StoredFinding[]>, filter: FindingFilter, context: OcsfContext, out: string): Promise<ParquetReport> {
  const written: ParquetReport['files'] = [];
  const newFile = (path: string): OcsfParquetWriter => {
    mkdirSync(dirname(path), { recursive: true });
    return new OcsfParquetWriter(fileWriter(path));
  };
  if (out.endsWith('.parquet')) {
    // One file, a row group at a time, in report order; written even when no finding matches (it holds the schema).
    const file = newFile(out);
    let pending: OcsfEvent[] = [];
    for await (const page of findings(filter)) {
      for (const finding of page) {
        pending.push(findingOcsf(finding, context));
        if (pending.length >= ROW_GROUP) {
          file.append(pending);
          pending = [];
        }
      }
    }
    file.append(pending);
    file.finish();
    return { files: [{ path: out, rows: file.rows }] };
  }
  // The Security Lake layout: each partition's events in files of at most ROW_GROUP rows, each sorted
  // by time (as Security Lake asks of a custom source's objects). One stamp per run: a later export
  // adds files beside earlier ones instead of replacing them.
  const stamp = new Date().toISOString().replaceAll(/[-:.]/g, '');
  const pending = new Map<string, OcsfEvent[]>();
  let files = 0;
  const flush = (partition: string, events: OcsfEvent[]) => {
    const path = join(out, partition, `sseguard-${stamp}-${String(files++).padStart(5, '0')}.parquet`);
    const file = newFile(path);
    file.append([...events].sort((a, b) => a.time - b.time));
    file.finish();
    written.push({ path, rows: file.rows });
  };
  for await (const page of findings(filter)) {
    for (const finding of page) {
      const event = findingOcsf(finding, context);
      const partition = securityLakePartition(event);
      const events = pending.get(partition) ?? [];
      pending.set(partition, events);
      events.push(event);
      if (events.length >= ROW_GROUP) flush(partition, events.splice(0));
    }
  }
  for (const [partition, events] of pending) if (events.length > 0) flush(partition, events);
  return { files: written };
}
