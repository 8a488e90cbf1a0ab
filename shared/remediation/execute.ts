// Carries out a remediation plan on S3 and says what happened, data safety first: every write is
// conditional (s3-fixes.ts), a copy keeps every attribute (copy-parameters.ts), and after the fix a
// HeadObject again: the outcome is "fixed" only when S3 shows the target. S3's refusals become
// outcomes (changed, vanished, denied, failed), never exceptions.
import type { S3Client } from '@aws-sdk/client-s3';
import { errorFacts, type ServiceErrorFacts } from '../aws/errors.ts';
import { encryptionOfHead } from '../inspect/head-encryption.ts';
import type { ObservedEncryptionSnapshot } from '../domain/encryption-snapshot.ts';
import type { RemediationOutcomeCode } from './outcomes.ts';
import {
  isAtTarget,
  planRemediation,
  type PlanOptions,
  type RemediationFacts,
  type RemediationPlan,
  type RemediationTarget,
} from './fix-plan.ts';
import {
  StepError,
  copyInPlace,
  currentVersionId,
  isRestored,
  multipartCopyInPlace,
  readResult,
  readSource,
  updateEncryption,
} from './s3-fixes.ts';
import { requestVersionId } from '../domain/listed-object.ts';

// Kept here for importers of the engine's helpers before the split.
export { checksumAlgorithmOf, copySource, grantHeaders } from './copy-parameters.ts';

export interface RemediationDependencies {
  s3: S3Client;
  clock?: () => Date;
}

export interface RemediationOptions extends PlanOptions {
  /** Plan only: nothing is sent to S3. */
  dryRun?: boolean;
  /** UploadPartCopy requests in flight at once for one object (default 4). */
  partConcurrency?: number;
}

export interface RemediationOutcome {
  outcome: RemediationOutcomeCode;
  /** The plan that was carried out (re-made when the fresh HeadObject showed a restored archive). */
  plan: RemediationPlan;
  /** What happened, for the findings history and the CLI. */
  message: string;
  /** What a person must do, when sseguard cannot. */
  instruction?: string;
  before: ObservedEncryptionSnapshot;
  after?: ObservedEncryptionSnapshot;
  notes: string[];
  /** The S3 error behind a skipped, blocked or failed outcome. */
  cause?: ServiceErrorFacts;
}

const DEFAULT_PART_CONCURRENCY = 4;

const PERMISSIONS_NEEDED =
  's3:GetObject, s3:GetObjectVersion, s3:PutObject, s3:GetObjectAcl, s3:GetObjectVersionAcl, s3:PutObjectAcl, ' +
  's3:GetObjectTagging, s3:GetObjectVersionTagging, s3:PutObjectTagging, s3:UpdateObjectEncryption, ' +
  's3:PutObjectRetention and s3:PutObjectLegalHold (locked objects), and kms:Decrypt, kms:Encrypt, ' +
  'kms:GenerateDataKey, kms:ReEncrypt* on both the current and the target key';

/** The verifying HeadObject read as the audit reads it (one reading of S3's headers). */
const snapshotFromHead = encryptionOfHead;

function snapshotFromFacts(facts: RemediationFacts): ObservedEncryptionSnapshot {
  return {
    mode: facts.mode,
    bucketKeyEnabled: facts.bucketKeyEnabled,
    ...(facts.kmsKeyArn ? { kmsKeyArn: facts.kmsKeyArn } : {}),
    ...(facts.versionId ? { versionId: facts.versionId } : {}),
    ...(facts.etag ? { etag: facts.etag } : {}),
  };
}

/** What the outcome is when S3 refuses: the object changed, vanished, access denied, or a failure. */
function outcomeOfError(error: unknown, operation: string): Pick<RemediationOutcome, 'outcome' | 'message' | 'instruction' | 'cause'> {
  const cause = errorFacts(error);
  // 409 ConditionalRequestConflict: a concurrent write to the same key while the conditional one ran.
  if (cause.status === 412 || cause.status === 409 || cause.name === 'PreconditionFailed') {
    return {
      outcome: 'skipped-object-changed',
      message: `${operation}: the object changed since it was audited; nothing was written (the newer object is audited on its own)`,
      cause,
    };
  }
  if (cause.status === 404 || cause.name === 'NoSuchKey' || cause.name === 'NoSuchVersion') {
    return { outcome: 'skipped-object-vanished', message: `${operation}: the object was deleted since it was audited`, cause };
  }
  if (cause.status === 403) {
    return {
      outcome: 'blocked-access-denied',
      message: `${operation} was denied (${cause.name}): ${cause.message}`,
      instruction: `give the remediation role ${PERMISSIONS_NEEDED} (check the bucket policy, the key policies and SCPs), or fix the object by hand`,
      cause,
    };
  }
  return { outcome: 'failed', message: `${operation} failed: ${cause.name}${cause.status ? ` (HTTP ${cause.status})` : ''}: ${cause.message}`, cause };
}

/**
 * Why UpdateObjectEncryption is not available, per S3 client, once an answer said so: later objects
 * fixed through the same client (the rest of a scan, a warm Lambda's next batches) go straight to the
 * copy instead of asking again. Per client, because the endpoint (LocalStack, a partition) is.
 */
const updateObjectEncryptionUnavailable = new WeakMap<S3Client, string>();

/** The reason, when an S3 answer says the operation does not exist there (HTTP 501, NotImplemented…). */
export function unsupportedOperationReason(error: unknown): string | undefined {
  const { name, status, message } = errorFacts(error);
  if (status !== 501 && !/^(NotImplemented|UnsupportedOperation|OperationNotSupported|NotSupported)$/.test(name)) return undefined;
  return `${name}${status ? ` (HTTP ${status})` : ''}: ${message}`;
}

/** Plans and carries out the fix for one object; never throws for an S3 refusal (the outcome says it). */
export async function remediateObject(
  deps: RemediationDependencies,
  facts: RemediationFacts,
  target: RemediationTarget,
  options: RemediationOptions = {},
): Promise<RemediationOutcome> {
  const now = deps.clock?.() ?? new Date();
  const before = snapshotFromFacts(facts);
  let known: RemediationFacts = facts;
  let unavailable = updateObjectEncryptionUnavailable.get(deps.s3);
  const planFor = (withoutUpdate: boolean) =>
    planRemediation({ facts: known, target, now, options, ...(withoutUpdate && unavailable ? { updateObjectEncryptionUnavailable: unavailable } : {}) });
  let plan = planFor(false);
  const runNotes: string[] = [];
  const finish = (rest: Omit<RemediationOutcome, 'plan' | 'before' | 'notes'> & { notes?: string[] }): RemediationOutcome => ({
    plan,
    before,
    ...rest,
    notes: [...('notes' in plan ? plan.notes : []), ...runNotes, ...(rest.notes ?? [])],
  });
  const blockedOutcome = (blocked: Extract<RemediationPlan, { action: 'blocked' }>) =>
    finish({ outcome: blocked.outcome, message: blocked.why, instruction: blocked.instruction });
  /** The plan without UpdateObjectEncryption; a copy must know whether the version is the current one. */
  const planWithoutUpdate = async () => {
    const versioned = requestVersionId(known.versionId) !== undefined;
    if (versioned && known.isLatest === undefined && !options.dryRun) {
      known = { ...known, isLatest: (await currentVersionId(deps.s3, known)) === known.versionId };
    }
    return planFor(true);
  };

  if (plan.action === 'none') return finish({ outcome: 'already-at-target', message: plan.why });
  // An archived object may have been restored since the audit: only a fresh HeadObject tells.
  const mayBeRestored = plan.action === 'blocked' && plan.outcome === 'blocked-archived' && !facts.archiveStatus && facts.restored === undefined;
  if (plan.action === 'blocked' && !(mayBeRestored && !options.dryRun)) return blockedOutcome(plan);
  if (options.dryRun) {
    if (plan.action === 'update-encryption' && unavailable) plan = await planWithoutUpdate();
    return plan.action === 'blocked' ? blockedOutcome(plan) : finish({ outcome: 'planned', message: `would apply ${plan.action}` });
  }
  if (!facts.etag) {
    return finish({ outcome: 'failed', message: 'the audit recorded no ETag: sseguard never changes an object without a condition' });
  }

  try {
    // This client already answered that UpdateObjectEncryption is not there: copy without asking.
    if (plan.action === 'update-encryption' && unavailable) {
      plan = await planWithoutUpdate();
      if (plan.action === 'blocked') return blockedOutcome(plan);
    }
    let versionId: string | undefined;
    let updated = false;
    if (plan.action === 'update-encryption') {
      try {
        versionId = await updateEncryption(deps.s3, plan);
        updated = true;
      } catch (error) {
        const reason = error instanceof StepError ? unsupportedOperationReason(error.cause) : undefined;
        if (!reason) throw error;
        unavailable = reason;
        updateObjectEncryptionUnavailable.set(deps.s3, reason);
        // Said once, on the object that found out; the objects after it are simply copied.
        runNotes.push(
          `UpdateObjectEncryption is not available on this endpoint (${reason}): fixed with the conditional copy instead, and so are the next objects of this kind`,
        );
        plan = await planWithoutUpdate();
        if (plan.action === 'blocked') return blockedOutcome(plan);
      }
    }
    if (!updated) {
      // In a versioned bucket the audited version stays readable after another write, and the copy's
      // If-Match on the ETag cannot see a new version of the same bytes (another fixer whose lease ran
      // out, an application writing the same content): only the key's current version is copied.
      if (requestVersionId(known.versionId) !== undefined && (await currentVersionId(deps.s3, known)) !== known.versionId) {
        return finish({
          outcome: 'skipped-object-changed',
          message: 'the key has a newer version than the one audited; nothing was written (the newer version is audited on its own)',
        });
      }
      const head = await readSource(deps.s3, known);
      if (plan.action === 'blocked') {
        known = { ...known, restored: isRestored(head) };
        plan = planFor(true);
      }
      if (plan.action === 'blocked') return blockedOutcome(plan);
      // Only copies read the source first (a restored archive re-plans to a copy, never to an update).
      if (plan.action !== 'copy' && plan.action !== 'multipart-copy') throw new Error(`unexpected plan ${plan.action}`);
      versionId =
        plan.action === 'copy'
          ? await copyInPlace(deps.s3, plan, head, now)
          : (await multipartCopyInPlace(deps.s3, plan, head, now, options.partConcurrency ?? DEFAULT_PART_CONCURRENCY)).versionId;
    }
    const afterHead = await readResult(deps.s3, { bucket: facts.bucket, key: facts.key, ...(versionId ? { versionId } : {}) });
    const after = snapshotFromHead(afterHead);
    if (!isAtTarget(after, target)) {
      return finish({
        outcome: 'unverified',
        message: `${plan.action} was accepted but HeadObject shows ${after.mode}${after.kmsKeyArn ? ` with ${after.kmsKeyArn}` : ''}${after.bucketKeyEnabled ? ' +bucket key' : ''}, not the target`,
        instruction: 'check the object by hand; it is re-audited on its next event or sweep',
        after,
      });
    }
    return finish({ outcome: 'fixed', message: `${plan.action}: ${before.mode} → ${after.mode}`, after });
  } catch (error) {
    const operation = error instanceof StepError ? error.operation : 'remediation';
    const cause = error instanceof StepError ? error.cause : error;
    const abortFailure = (error as { abortFailure?: string }).abortFailure;
    return finish({ ...outcomeOfError(cause, operation), ...(abortFailure ? { notes: [abortFailure] } : {}) });
  }
}
