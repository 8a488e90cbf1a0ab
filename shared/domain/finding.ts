// A finding: what one audit of one object concluded. This is what the store records, the scan
// prints and the report serves.
import type { EncryptionSnapshot } from './encryption-snapshot.ts';
import type { EncryptionMode, KeyLookup, ObjectInspection } from './encryption.ts';
import type { PolicyId } from './policy-identity.ts';
import type { Evaluation, Reason, Verdict } from './verdict.ts';

export type { EncryptionSnapshot } from './encryption-snapshot.ts';

/** What a remediation did (or why it did nothing), kept in the object's history. */
export interface RemediationRecord {
  action: string;
  outcome: string;
  at: string;
  before: EncryptionSnapshot;
  after?: EncryptionSnapshot;
  detail?: string;
  /** The S3 Batch Operations job that made (or failed) this fix. */
  batchJobId?: string;
  /** The error code S3 gave for a failed Batch task. */
  errorCode?: string;
}

/**
 * What `evaluate` needs of an object beyond the finding's own fields, kept with the finding so that a
 * key-state change re-evaluates the object exactly as a fresh HeadObject would (inspectionFromStored).
 */
export interface StoredFacts {
  objectLock: import('./encryption.ts').ObjectLockFacts;
  archiveStatus?: string;
  /** The S3 Encryption Client's envelope: without it a client-side object would lose its KMS layer. */
  clientSide?: import('./encryption.ts').ClientSideFacts;
}

export interface Finding {
  /** The AWS account that owns the bucket (absent on findings recorded before accounts were kept). */
  account?: string;
  /** The bucket's Region. */
  region?: string;
  bucket: string;
  key: string;
  versionId?: string;
  /** false for a noncurrent version, recorded beside the object's state and counted apart. */
  isLatest?: boolean;
  etag?: string;
  size: number;
  storageClass?: string;
  lastModified?: string;
  /** Absent when the object could not be read. */
  mode?: EncryptionMode;
  kmsKeyArn?: string;
  bucketKeyEnabled?: boolean;
  /** The rest of the object facts (absent when unreadable, and on findings recorded before they were kept). */
  facts?: StoredFacts;
  /** The object's KMS key is scheduled for deletion on this date: the most urgent finding there is. */
  kmsKeyDeletionDate?: string;
  verdict: Verdict;
  reasons: Reason[];
  ruleIndex?: number;
  /** The policy asks for this object to be fixed. */
  remediate: boolean;
  auditedAt: string;
  /** The S3 event sequencer that triggered this audit; orders audits of the same key. */
  sequencer?: string;
  /** Set when this audit followed a remediation attempt. */
  remediation?: RemediationRecord;
  /** S3 said the object was removed and it is gone: the recorded state is to be removed. */
  removed?: boolean;
  /**
   * This audit is a fresh HeadObject of the current object, made because the order of two versions
   * could not be told from the object (equal sequencers, the same LastModified second).
   */
  confirmedCurrent?: boolean;
  /**
   * This audit is a HeadObject of the current object made after S3 said this version was permanently
   * deleted: when it is the recorded version, the version now current replaces it, however old it is.
   */
  afterRemovalOf?: string;
  /** The fix in `remediation` was recorded (history and log) when it was made: do not log it again. */
  remediationRecorded?: boolean;
  /** What the finding rests on: a HeadObject of the object, the row of an S3 Inventory report, or of an S3 Metadata table. */
  evidence?: 'head' | 'inventory' | 'metadata-table';
  /** When that evidence was true: the report's date (a metadata table's: the query's, minus its lag), or the HeadObject's time. */
  evidenceAt?: string;
  /** The policy that judged it (absent on findings recorded before findings named their policy). */
  policy?: PolicyId;
}

export function toFinding(
  inspection: ObjectInspection,
  evaluation: Evaluation,
  key: KeyLookup | undefined,
  auditedAt: Date,
  listedSize: number,
): Finding {
  const common = {
    verdict: evaluation.verdict,
    reasons: evaluation.reasons,
    remediate: evaluation.remediate,
    auditedAt: auditedAt.toISOString(),
    ...(evaluation.ruleIndex === undefined ? {} : { ruleIndex: evaluation.ruleIndex }),
  };
  if (inspection.status === 'unreadable') {
    return {
      bucket: inspection.bucket,
      key: inspection.key,
      size: listedSize,
      ...(inspection.versionId ? { versionId: inspection.versionId } : {}),
      ...common,
      // Gone from S3: whatever was recorded for it no longer describes an object.
      ...(inspection.reason === 'object-vanished' ? { removed: true } : {}),
    };
  }
  const { facts } = inspection;
  // KMS answers with the canonical key ARN even when S3 reported another form of reference.
  const kmsKeyArn = key?.arn ?? facts.kmsKeyArn;
  return {
    bucket: facts.bucket,
    key: facts.key,
    size: facts.size,
    storageClass: facts.storageClass,
    mode: facts.mode,
    bucketKeyEnabled: facts.bucketKeyEnabled,
    ...(facts.versionId ? { versionId: facts.versionId } : {}),
    ...(facts.isLatest === false ? { isLatest: false } : {}),
    ...(facts.etag ? { etag: facts.etag } : {}),
    ...(facts.lastModified ? { lastModified: facts.lastModified } : {}),
    ...(kmsKeyArn ? { kmsKeyArn } : {}),
    facts: {
      objectLock: facts.objectLock,
      ...(facts.archiveStatus ? { archiveStatus: facts.archiveStatus } : {}),
      ...(facts.clientSide ? { clientSide: facts.clientSide } : {}),
    },
    ...(key?.status === 'described' && key.deletionDate ? { kmsKeyDeletionDate: key.deletionDate } : {}),
    ...common,
  };
}

/**
 * The inspection a stored finding was made from, for re-evaluating it when only its KMS key changed.
 * Undefined when the finding does not hold every fact `evaluate` needs (it could not be read, or it
 * was recorded before the facts were kept): only a fresh HeadObject can tell then, never a guess.
 */
export function inspectionFromStored(stored: Finding): ObjectInspection | undefined {
  if (!stored.mode || !stored.facts || !stored.storageClass) return undefined;
  const { objectLock, archiveStatus, clientSide } = stored.facts;
  if (stored.mode === 'client-side' && !clientSide) return undefined;
  return {
    status: 'read',
    facts: {
      bucket: stored.bucket,
      key: stored.key,
      size: stored.size,
      storageClass: stored.storageClass,
      mode: stored.mode,
      bucketKeyEnabled: stored.bucketKeyEnabled ?? false,
      objectLock,
      ...(stored.versionId ? { versionId: stored.versionId } : {}),
      ...(stored.etag ? { etag: stored.etag } : {}),
      ...(stored.lastModified ? { lastModified: stored.lastModified } : {}),
      ...(stored.kmsKeyArn ? { kmsKeyArn: stored.kmsKeyArn } : {}),
      ...(archiveStatus ? { archiveStatus } : {}),
      ...(clientSide ? { clientSide } : {}),
    },
  };
}

/** The finding for an object whose current version is a delete marker: gone, its state to be removed. */
export function deletedObjectFinding(bucket: string, key: string, at: Date): Finding {
  return {
    bucket,
    key,
    size: 0,
    verdict: 'unauditable',
    reasons: [{ code: 'object-vanished', message: 'the current version is a delete marker' }],
    remediate: false,
    auditedAt: at.toISOString(),
    removed: true,
  };
}
