// Reconciliation: which recorded objects an inventory report proves gone. Pure.
//
// A recorded object is gone when the newest report does not list it, unless the report cannot
// speak of it (first match wins, "kept" means the finding stays):
// | # | recorded object                                              | outcome |
// |---|--------------------------------------------------------------|---------|
// | 1 | listed in the report                                         | kept    |
// | 2 | last modified (else first seen), or last audited, at or after the report's scan | kept: written (or seen to exist) after the scan began, the next report lists it |
// | 3 | a noncurrent version, and the report lists current versions   | kept: such a report never lists noncurrent versions |
// | 4 | outside the configuration's filter prefix                    | kept: the report never lists it |
// | 5 | otherwise                                                    | gone: remove the state, keep its history |
export interface RecordedPresence {
  key: string;
  versionId?: string;
  /** false for a noncurrent version; undefined when versioning is unknown (treated as current). */
  isLatest?: boolean;
  lastModified?: string;
  firstSeen: string;
  /** When the recorded finding was made: an audit after the scan saw the object exist (a version restored by deleting its delete marker keeps its old LastModified). */
  auditedAt?: string;
}

export interface ReportScope {
  createdAt: Date;
  /** The report lists every version (IncludedObjectVersions All), not only current ones. */
  allVersions: boolean;
  /** The configuration's Filter.Prefix, if any. */
  filterPrefix?: string;
}

export type Reconciliation = 'kept-listed' | 'kept-newer-than-report' | 'kept-not-covered' | 'gone';

export function reconcile(recorded: RecordedPresence, listed: boolean, report: ReportScope): Reconciliation {
  if (listed) return 'kept-listed';
  const since = Date.parse(recorded.lastModified ?? recorded.firstSeen);
  const audited = recorded.auditedAt === undefined ? Number.NEGATIVE_INFINITY : Date.parse(recorded.auditedAt);
  if (Number.isNaN(since) || Number.isNaN(audited) || Math.max(since, audited) >= report.createdAt.getTime()) return 'kept-newer-than-report';
  if (recorded.isLatest === false && !report.allVersions) return 'kept-not-covered';
  if (report.filterPrefix && !recorded.key.startsWith(report.filterPrefix)) return 'kept-not-covered';
  return 'gone';
}

/** A report lists all versions when its schema has the version columns (S3 adds them for `All`). */
export const listsAllVersions = (columns: readonly string[]) => columns.includes('VersionId') || columns.includes('version_id');
