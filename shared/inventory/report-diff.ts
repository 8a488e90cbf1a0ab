// The diff of two inventory reports of one bucket, in process: a hash join, never a streaming merge
// (S3 does not promise any order of rows within or across a report's data files; lakeFS broke on
// assuming one, treeverse/lakeFS #1952, #4018). The previous report's rows are held by key and
// version with a fingerprint of every column the audit reads; each row of the new report is then
// looked up. Pure: the rows come from whoever read them (shared/audit/inventory-baseline.ts).
//
// | new report's row                                   | previous report                                   | outcome     |
// |----------------------------------------------------|---------------------------------------------------|-------------|
// | key and version listed, every audited column equal  | —                                                 | `unchanged` |
// | key and version listed, any audited column differs  | —                                                 | `changed`   |
// | key and version not listed                          | —                                                 | `added`     |
// | —                                                   | a key no row of the new report lists              | `vanished`  (a reconciliation candidate) |
//
// The fingerprint is every parsed column, not a hash of them: a hash collision would call a changed
// object unchanged, and that is a verdict nobody re-checks. Memory is therefore the previous
// report's keys and columns (≈ 300 bytes a row measured for 40-character keys): a report past
// IN_PROCESS_DIFF_LIMIT_BYTES of data files is diffed in Athena instead (shared/inventory/diff-query.ts).
import type { InventoryRow } from './row.ts';

export type RowChange = 'unchanged' | 'changed' | 'added';

/** What changed between two reports, as the Athena diff answers it: identities of rows to audit, and keys no longer listed. */
export interface ReportChanges {
  /** rowIdentity(key, versionId) of every changed or added row. */
  changed: Set<string>;
  vanished: string[];
}

export const rowIdentity = (key: string, versionId?: string) => `${key}\u0000${versionId ?? ''}`;

/** Gzip CSV bytes of the previous report's data files up to which a worker diffs in process (≈ 29 bytes a row: ~2.3 million rows). */
export const IN_PROCESS_DIFF_LIMIT_BYTES = 64 * 1024 * 1024;

/** Every column the audit reads, in one string: two rows with the same fingerprint decide the same. */
export function rowFingerprint(row: InventoryRow): string {
  return JSON.stringify([
    row.isLatest,
    row.isDeleteMarker,
    row.size,
    row.lastModified,
    row.etag,
    row.storageClass,
    row.encryptionStatus,
    row.bucketKeyEnabled,
    row.objectLockMode,
    row.objectLockRetainUntil,
    row.objectLockLegalHold,
    row.intelligentTieringAccessTier,
  ]);
}

export interface ReportIndex {
  readonly rows: number;
  /** How `row` of the new report compares with the previous one; notes its key as listed. */
  compare(row: InventoryRow): RowChange;
  /** Keys the previous report listed and no row compared so far did: after the whole new report, the vanished. */
  vanished(): string[];
}

interface Listed {
  /** Fingerprint by version id ('' for a bucket without versioning). */
  versions: Map<string, string>;
  seen: boolean;
}

/** The previous report's rows, added one at a time (only their fingerprints are kept), to compare the new report's rows with. */
export function reportIndex(): ReportIndex & { add(row: InventoryRow): void } {
  const byKey = new Map<string, Listed>();
  let rows = 0;
  return {
    get rows() {
      return rows;
    },
    add(row) {
      let listed = byKey.get(row.key);
      if (!listed) byKey.set(row.key, (listed = { versions: new Map(), seen: false }));
      listed.versions.set(row.versionId ?? '', rowFingerprint(row));
      rows += 1;
    },
    compare(row) {
      const listed = byKey.get(row.key);
      if (!listed) return 'added';
      listed.seen = true;
      const fingerprint = listed.versions.get(row.versionId ?? '');
      if (fingerprint === undefined) return 'added';
      return fingerprint === rowFingerprint(row) ? 'unchanged' : 'changed';
    },
    vanished() {
      const gone: string[] = [];
      for (const [key, listed] of byKey) if (!listed.seen) gone.push(key);
      return gone;
    },
  };
}

/** The index of a report read as a stream of rows. */
export async function reportIndexOf(previousRows: AsyncIterable<InventoryRow>): Promise<ReportIndex> {
  const index = reportIndex();
  for await (const row of previousRows) index.add(row);
  return index;
}
