// Chooses the least invasive safe fix for one object (DESIGN.md, "Remediation"). Pure: object facts,
// the policy's target and options in, a plan out. No I/O; the adapter in execute.ts carries it out.
//
//   source → target                                               fix
//   SSE-C                                                          blocked-sse-c (needs the customer key)
//   already at target                                              none
//   compliance-mode retention in force                             blocked-object-lock-compliance
//   SSE-S3 / SSE-KMS → SSE-KMS (key ARN), no retention, no hold     update-encryption (no data moved)
//   ... where UpdateObjectEncryption is not available               copy in place, as below
//   anything else (none, DSSE, → SSE-S3, → DSSE, governance/hold)  copy in place (multipart above the threshold)
//   ... that needs a copy of an archived object                    blocked-archived
//   ... that needs a copy of a version not known to be current     blocked-noncurrent-version
//
// Governance retention and legal hold: AWS denies UpdateObjectEncryption on them ("you must first remove
// the Object Lock status"). sseguard never lifts a lock itself (that needs s3:BypassGovernanceRetention
// and leaves a window without protection), so it copies instead: the new version gets the same mode,
// retain-until date and legal hold, the locked old version stays as it is until its lock ends.
// Compliance mode is blocked: the copy would add a second record nobody can delete before the date,
// and the non-compliant version cannot be removed either, so the copy would not make the key compliant.
//
// UpdateObjectEncryption not available (LocalStack answers 501, some partitions may not offer it):
// the copy is the fallback for current versions only. A copy in place makes its source the current
// version, so copying a noncurrent version would bring old content back: blocked instead.
import type { EncryptionMode, ObjectFacts } from '../domain/encryption.ts';
import type { TargetMode } from '../domain/policy.ts';
import type { BlockedOutcome } from './outcomes.ts';
import { requestVersionId } from '../domain/listed-object.ts';

/** The policy's remediation target with its KMS key resolved to an ARN (Requirement['target']). */
export interface RemediationTarget {
  mode: TargetMode;
  kmsKey?: string;
  bucketKey: boolean;
}

/** What the planner needs to know about the object: the audit's facts, plus restore state if known. */
export type RemediationFacts = ObjectFacts & {
  /** HeadObject's `Restore` header says a restored copy of an archived object is readable now. */
  restored?: boolean;
  /** Whether the version is the key's current one; undefined: not known (unversioned objects always are). */
  isLatest?: boolean;
};

export const GIB = 1024 ** 3;
export const MIB = 1024 ** 2;
/** CopyObject copies at most 5 GB in one request (S3 API reference: "up to 5 GB in size"). */
export const COPY_OBJECT_MAX_BYTES = 5 * GIB;
/** S3 multipart limits: parts of 5 MiB to 5 GiB (the last may be smaller), at most 10,000 parts. */
export const MIN_PART_BYTES = 5 * MIB;
export const MAX_PART_BYTES = 5 * GIB;
export const MAX_PARTS = 10_000;

export interface PlanOptions {
  /** Objects larger than this are copied with UploadPartCopy; at most (and by default) 5 GiB. */
  multipartThresholdBytes?: number;
  /** Part size for UploadPartCopy (raised when the object would need more than 10,000 parts). */
  partSizeBytes?: number;
}

export const DEFAULT_PLAN_OPTIONS = { multipartThresholdBytes: COPY_OBJECT_MAX_BYTES, partSizeBytes: 512 * MIB } as const;

/**
 * What a fix costs, for dry-run totals. KMS requests are an estimate of what S3 sends to KMS for the
 * object (they are billed to the bucket owner and count against KMS request quotas):
 * - each KMS-encrypted side of the operation costs 1 request (reading: Decrypt of the object's data
 *   key; writing: GenerateDataKey, or ReEncrypt for UpdateObjectEncryption) — SSE-S3 and "none" cost 0;
 * - a side with an S3 Bucket Key costs ~0 per object: S3 reuses a bucket-level data key (one KMS call
 *   per bucket key lifetime, amortised over many objects);
 * - DSSE-KMS never uses Bucket Keys: 1 per side;
 * - multipart: the source is read once per part (1 Decrypt per part), the target costs 1 at
 *   CreateMultipartUpload, 1 per part (S3 decrypts the upload's data key to encrypt each part) and 1 at
 *   CompleteMultipartUpload.
 */
export interface FixEstimate {
  bytesCopied: number;
  kmsRequests: number;
}

interface PlanBase {
  bucket: string;
  key: string;
  versionId?: string;
  etag?: string;
  size: number;
  /** The object's encryption as audited. */
  from: { mode: EncryptionMode; kmsKeyArn?: string; bucketKeyEnabled: boolean };
  target: RemediationTarget;
}

export type RemediationPlan =
  | (PlanBase & { action: 'none'; why: string })
  | (PlanBase & { action: 'blocked'; outcome: BlockedOutcome; why: string; instruction: string })
  | (PlanBase & { action: 'update-encryption'; kmsKeyArn: string; estimate: FixEstimate; notes: string[] })
  | (PlanBase & { action: 'copy'; estimate: FixEstimate; notes: string[] })
  | (PlanBase & {
      action: 'multipart-copy';
      partSizeBytes: number;
      partCount: number;
      estimate: FixEstimate;
      notes: string[];
    });

export type FixPlan = Extract<RemediationPlan, { action: 'update-encryption' | 'copy' | 'multipart-copy' }>;

export interface PlanInput {
  facts: RemediationFacts;
  target: RemediationTarget;
  /** Decides whether an object's retention is still in force. */
  now: Date;
  options?: PlanOptions;
  /** Why UpdateObjectEncryption cannot be used here (the endpoint answered NotImplemented); unset: it can. */
  updateObjectEncryptionUnavailable?: string;
}

const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
export const isKmsKeyArn = (ref: string | undefined): ref is string => ref !== undefined && KEY_ARN.test(ref);

/** Storage classes whose objects must be restored before S3 can read (copy) them. */
const ARCHIVE_STORAGE_CLASSES = ['GLACIER', 'DEEP_ARCHIVE'];

export function resolvePlanOptions(options: PlanOptions = {}): Required<PlanOptions> {
  const threshold = options.multipartThresholdBytes ?? DEFAULT_PLAN_OPTIONS.multipartThresholdBytes;
  const partSize = options.partSizeBytes ?? DEFAULT_PLAN_OPTIONS.partSizeBytes;
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > COPY_OBJECT_MAX_BYTES) {
    throw new RangeError(`multipartThresholdBytes must be a whole number from 0 to ${COPY_OBJECT_MAX_BYTES}, got ${threshold}`);
  }
  if (!Number.isInteger(partSize) || partSize < MIN_PART_BYTES || partSize > MAX_PART_BYTES) {
    throw new RangeError(`partSizeBytes must be a whole number from ${MIN_PART_BYTES} to ${MAX_PART_BYTES}, got ${partSize}`);
  }
  return { multipartThresholdBytes: threshold, partSizeBytes: partSize };
}

/** Whether the object already has what the target asks for (a bucket key beyond the target is fine). */
export function isAtTarget(facts: Pick<ObjectFacts, 'mode' | 'kmsKeyArn' | 'bucketKeyEnabled'>, target: RemediationTarget): boolean {
  if (facts.mode !== target.mode) return false;
  if (target.mode === 'sse-s3') return true;
  if (facts.kmsKeyArn !== target.kmsKey) return false;
  return target.mode !== 'sse-kms' || !target.bucketKey || facts.bucketKeyEnabled;
}

const retentionInForce = (facts: ObjectFacts, now: Date): boolean =>
  facts.objectLock.mode !== undefined &&
  (facts.objectLock.retainUntil === undefined || new Date(facts.objectLock.retainUntil).getTime() > now.getTime());

function isArchived(facts: RemediationFacts): boolean {
  if (facts.archiveStatus) return true; // Intelligent-Tiering Archive / Deep Archive Access tiers
  return ARCHIVE_STORAGE_CLASSES.includes(facts.storageClass) && facts.restored !== true;
}

/** KMS requests of one side of a fix (see FixEstimate). */
function kmsSide(mode: EncryptionMode, bucketKey: boolean, perObject: number): number {
  if (mode === 'dsse-kms') return perObject;
  if (mode === 'sse-kms') return bucketKey ? 0 : perObject;
  return 0;
}

/** A version other than "null" in a versioned bucket whose current version may be another one. */
const mayBeNoncurrent = (facts: RemediationFacts): boolean =>
  requestVersionId(facts.versionId) !== undefined && facts.isLatest !== true;

export function planRemediation({ facts, target, now, options, updateObjectEncryptionUnavailable }: PlanInput): RemediationPlan {
  if (target.mode !== 'sse-s3' && !target.kmsKey) {
    throw new Error(`remediation target ${target.mode} has no KMS key (the policy must name one)`);
  }
  const { multipartThresholdBytes, partSizeBytes } = resolvePlanOptions(options);
  const base: PlanBase = {
    bucket: facts.bucket,
    key: facts.key,
    size: facts.size,
    from: {
      mode: facts.mode,
      bucketKeyEnabled: facts.bucketKeyEnabled,
      ...(facts.kmsKeyArn ? { kmsKeyArn: facts.kmsKeyArn } : {}),
    },
    target,
    ...(facts.versionId ? { versionId: facts.versionId } : {}),
    ...(facts.etag ? { etag: facts.etag } : {}),
  };
  const blocked = (outcome: BlockedOutcome, why: string, instruction: string): RemediationPlan => ({
    ...base,
    action: 'blocked',
    outcome,
    why,
    instruction,
  });
  const targetName = target.mode === 'sse-s3' ? 'sse-s3' : `${target.mode} with ${target.kmsKey}`;

  if (facts.mode === 'sse-c') {
    return blocked(
      'blocked-sse-c',
      'the object is encrypted with a customer-provided key (SSE-C): S3 cannot read or re-encrypt it without that key',
      `the owner of the customer key must rewrite the object as ${targetName} (read it with its SSE-C key, write it without), or delete it`,
    );
  }
  if (isAtTarget(facts, target)) {
    return { ...base, action: 'none', why: `the object is already ${targetName}` };
  }
  const lock = facts.objectLock;
  const retained = retentionInForce(facts, now);
  if (retained && lock.mode === 'COMPLIANCE') {
    return blocked(
      'blocked-object-lock-compliance',
      `the object is under Object Lock compliance-mode retention until ${lock.retainUntil ?? '(no date)'}: no one can change or remove it before then`,
      `after ${lock.retainUntil ?? 'the retention date'} re-audit the object (sseguard will fix it then); until then, record an exemption with the records owner as owner`,
    );
  }

  const locked = retained || lock.legalHold;
  const updatable =
    (facts.mode === 'sse-s3' || facts.mode === 'sse-kms') && target.mode === 'sse-kms' && isKmsKeyArn(target.kmsKey);
  if (updatable && !locked && !updateObjectEncryptionUnavailable) {
    const fromBucketKey = facts.mode === 'sse-kms' && facts.bucketKeyEnabled;
    return {
      ...base,
      action: 'update-encryption',
      kmsKeyArn: target.kmsKey!,
      estimate: {
        bytesCopied: 0,
        kmsRequests: kmsSide(facts.mode, fromBucketKey, 1) + kmsSide('sse-kms', target.bucketKey, 1),
      },
      notes: [],
    };
  }

  // Why a copy, when UpdateObjectEncryption would have done: said in the blocked reasons below.
  const whyCopy = updatable
    ? locked
      ? 'the object is under Object Lock'
      : `UpdateObjectEncryption is not available (${updateObjectEncryptionUnavailable})`
    : `UpdateObjectEncryption cannot change ${facts.mode} to ${target.mode}`;
  if (facts.isLatest === false || (updatable && !locked && mayBeNoncurrent(facts))) {
    return blocked(
      'blocked-noncurrent-version',
      `a copy is needed (${whyCopy}) and version ${facts.versionId} is ${facts.isLatest === false ? 'not the current version' : 'not known to be the current version'}: a copy in place would make its old content current again`,
      updatable && !locked
        ? 'fix it where UpdateObjectEncryption is available (it changes a noncurrent version in place), or let a noncurrent-version lifecycle rule expire it'
        : 'delete the version, or let a noncurrent-version lifecycle rule expire it (NoncurrentVersionExpiration)',
    );
  }

  if (isArchived(facts)) {
    const where = facts.archiveStatus ? `Intelligent-Tiering ${facts.archiveStatus}` : facts.storageClass;
    return blocked(
      'blocked-archived',
      `a copy is needed (${whyCopy}) and the object is archived (${where}): S3 cannot read it until it is restored`,
      `restore the object (RestoreObject${facts.archiveStatus ? ', which moves it back to the Frequent Access tier' : ' for a few days'}), then re-audit it: sseguard copies restored objects`,
    );
  }

  const notes: string[] = [];
  if (updatable && locked) {
    notes.push(
      `copy instead of UpdateObjectEncryption: AWS denies it for objects under ${retained ? 'governance-mode retention' : 'legal hold'}; the new version keeps the lock settings`,
    );
  }
  if (requestVersionId(facts.versionId)) {
    notes.push(
      `versioned bucket: the copy is a new version; version ${facts.versionId} remains, still ${facts.mode}` +
        (locked ? ' and locked until its lock ends' : '') +
        ' — delete it (or let a noncurrent-version lifecycle rule expire it) if no non-compliant version may remain',
    );
  }
  const fromBucketKey = facts.mode === 'sse-kms' && facts.bucketKeyEnabled;
  const toBucketKey = target.mode === 'sse-kms' && target.bucketKey;
  if (facts.size <= multipartThresholdBytes) {
    return {
      ...base,
      action: 'copy',
      estimate: {
        bytesCopied: facts.size,
        kmsRequests: kmsSide(facts.mode, fromBucketKey, 1) + kmsSide(target.mode, toBucketKey, 1),
      },
      notes,
    };
  }
  const partSize = Math.max(partSizeBytes, Math.ceil(facts.size / MAX_PARTS));
  const partCount = Math.ceil(facts.size / partSize);
  return {
    ...base,
    action: 'multipart-copy',
    partSizeBytes: partSize,
    partCount,
    estimate: {
      bytesCopied: facts.size,
      kmsRequests: kmsSide(facts.mode, fromBucketKey, partCount) + kmsSide(target.mode, toBucketKey, partCount + 2),
    },
    notes,
  };
}

export interface DryRunTotals {
  objects: number;
  byAction: Record<'update-encryption' | 'copy' | 'multipart-copy' | 'none' | 'blocked', number>;
  blocked: Partial<Record<BlockedOutcome, number>>;
  bytesCopied: number;
  kmsRequests: number;
}

/** Totals of a dry run: objects per action and reason, bytes that the copies would move, KMS requests. */
export function dryRunTotals(plans: Iterable<RemediationPlan>): DryRunTotals {
  const totals: DryRunTotals = {
    objects: 0,
    byAction: { 'update-encryption': 0, copy: 0, 'multipart-copy': 0, none: 0, blocked: 0 },
    blocked: {},
    bytesCopied: 0,
    kmsRequests: 0,
  };
  for (const plan of plans) {
    totals.objects += 1;
    totals.byAction[plan.action] += 1;
    if (plan.action === 'blocked') totals.blocked[plan.outcome] = (totals.blocked[plan.outcome] ?? 0) + 1;
    if ('estimate' in plan) {
      totals.bytesCopied += plan.estimate.bytesCopied;
      totals.kmsRequests += plan.estimate.kmsRequests;
    }
  }
  return totals;
}

/** One line per plan for `--dry-run`: what would be done to the object and why. */
export function describePlan(plan: RemediationPlan): string {
  const object = `s3://${plan.bucket}/${plan.key}${requestVersionId(plan.versionId) ? ` (version ${plan.versionId})` : ''}`;
  const to = plan.target.mode === 'sse-s3' ? 'sse-s3' : `${plan.target.mode} ${plan.target.kmsKey}${plan.target.bucketKey ? ' +bucket key' : ''}`;
  switch (plan.action) {
    case 'none':
      return `${object}: no change (${plan.why})`;
    case 'blocked':
      return `${object}: ${plan.outcome}: ${plan.why}; ${plan.instruction}`;
    case 'update-encryption':
      return `${object}: UpdateObjectEncryption ${plan.from.mode} → ${to} (no data moved)`;
    case 'copy':
      return `${object}: CopyObject in place ${plan.from.mode} → ${to} (${plan.size} bytes)`;
    case 'multipart-copy':
      return `${object}: multipart copy in place ${plan.from.mode} → ${to} (${plan.size} bytes, ${plan.partCount} parts)`;
  }
}
