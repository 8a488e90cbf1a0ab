// `sseguard report --format ocsf-parquet --out PATH`: the OCSF Compliance Findings of `--format ocsf`
// as Parquet (shared/report/ocsf-parquet.ts). PATH ending in `.parquet` is one file; any other PATH is
// a folder laid out as a Security Lake custom source reads it,
//   PATH/region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/sseguard-<time>.parquet
// (upload the folder's content under s3://<lake bucket>/ext/<source>/). Findings are read page by page
// and written a row group at a time, so memory holds one row group per open file, not the report.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileWriter } from 'hyparquet-writer';
import type { FindingFilter, StoredFinding } from '#shared/findings/store.ts';
import { findingOcsf, type OcsfContext } from '#shared/report/ocsf.ts';
import { OcsfParquetWriter, securityLakePartition, type OcsfEvent } from '#shared/report/ocsf-parquet.ts';

const ROW_GROUP = 10_000;

interface OpenFile {
  path: string;
  file: OcsfParquetWriter;
  pending: OcsfEvent[];
}

export interface ParquetReport {
  /** Each file written and its rows. */
  files: { path: string; rows: number }[];
}

export async function writeOcsfParquet(findings: (filter: FindingFilter) => AsyncIterable<StoredFinding[]>, filter: FindingFilter, context: OcsfContext, out: string): Promise<ParquetReport> {
  const single = out.endsWith('.parquet');
  // One name for every file of this run: a later export adds files beside it instead of replacing it.
  const fileName = `sseguard-${new Date().toISOString().replaceAll(/[-:.]/g, '')}.parquet`;
  const open = new Map<string, OpenFile>();
  const openFile = (partition: string, path: string): OpenFile => {
    mkdirSync(dirname(path), { recursive: true });
    const entry = { path, file: new OcsfParquetWriter(fileWriter(path)), pending: [] };
    open.set(partition, entry);
    return entry;
  };
  // A single file is written even when no finding matches: it holds the schema.
  if (single) openFile('', out);
  const fileFor = (event: OcsfEvent): OpenFile => {
    const partition = single ? '' : securityLakePartition(event);
    return open.get(partition) ?? openFile(partition, join(out, partition, fileName));
  };
  for await (const page of findings(filter)) {
    for (const finding of page) {
      const event = findingOcsf(finding, context);
      const entry = fileFor(event);
      entry.pending.push(event);
      if (entry.pending.length >= ROW_GROUP) entry.file.append(entry.pending.splice(0));
    }
  }
  for (const entry of open.values()) {
    entry.file.append(entry.pending.splice(0));
    entry.file.finish();
  }
  return { files: [...open.values()].map(({ path, file }) => ({ path, rows: file.rows })) };
}
