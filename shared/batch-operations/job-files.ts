// S3 Batch Operations files, pure: the CSV manifest a bulk UpdateObjectEncryption job reads, and the
// completion report it writes, read back so its outcomes can be folded into the findings.
//
// Manifest (S3 User Guide, "Specifying a manifest"): one task a line, `bucket,key[,versionId]`, the
// key URL-encoded; version-pinned so that the job updates exactly the version that was audited.
// Completion report ("Examples: S3 Batch Operations completion reports"): manifest.json lists the
// result files per task status; each result row is bucket, key (as in the manifest), version,
// TaskStatus, then the HTTP status and the error code — AWS's examples put the status first while
// ReportSchema names ErrorCode first, so the numeric one of the two is taken as the status.
import { parse } from 'csv-parse/sync';
import { z } from 'zod';

export interface BatchTarget {
  bucket: string;
  key: string;
  versionId?: string;
}

/** Keys are URL-encoded (a comma or newline in a key would otherwise break the line); "/" kept readable. */
const encodeKey = (key: string) => encodeURIComponent(key).replace(/%2F/g, '/');

export function batchManifestCsv(targets: Iterable<BatchTarget>, options: { versioned: boolean }): string {
  let out = '';
  for (const t of targets) {
    if (options.versioned && !t.versionId) throw new Error(`a version-pinned manifest needs the version of s3://${t.bucket}/${t.key}`);
    out += options.versioned ? `${t.bucket},${encodeKey(t.key)},${t.versionId}\n` : `${t.bucket},${encodeKey(t.key)}\n`;
  }
  return out;
}

const CompletionManifest = z.object({
  Format: z.literal('Report_CSV_20180820'),
  ReportCreationDate: z.string(),
  Results: z.array(z.object({ TaskExecutionStatus: z.enum(['succeeded', 'failed']), Bucket: z.string(), MD5Checksum: z.string(), Key: z.string() })),
  ReportSchema: z.string(),
});
export type CompletionManifest = z.infer<typeof CompletionManifest>;

export function parseCompletionManifest(text: string): CompletionManifest {
  return CompletionManifest.parse(JSON.parse(text));
}

export interface TaskResult extends BatchTarget {
  status: 'succeeded' | 'failed';
  httpStatus?: number;
  errorCode?: string;
  message: string;
}

export function parseCompletionResults(csv: string): TaskResult[] {
  const records = parse(csv, { relax_column_count: true, skip_empty_lines: true }) as string[][];
  return records.map((cells, index) => completionRow(cells, index));
}

/** One row of a completion report (cells as csv-parse gives them); `index` only names it in an error. */
export function completionRow(cells: string[], index: number): TaskResult {
  const [bucket = '', rawKey = '', versionId = '', status = '', a = '', b = '', ...rest] = cells;
  if (status !== 'succeeded' && status !== 'failed') throw new Error(`completion report row ${index + 1}: TaskStatus ${JSON.stringify(status)}`);
  const [http, code] = /^\d{3}$/.test(a) ? [a, b] : [b, a];
  return {
    bucket,
    key: decodeManifestKey(rawKey),
    ...(versionId ? { versionId } : {}),
    status,
    ...(/^\d{3}$/.test(http) ? { httpStatus: Number(http) } : {}),
    ...(code ? { errorCode: code } : {}),
    message: rest.join(','),
  };
}

/** A key as a manifest or report line carries it (URL-encoded, "+" for a space in AWS's reports). */
export const decodeManifestKey = (raw: string): string => decodeURIComponent(raw.replace(/\+/g, ' '));
