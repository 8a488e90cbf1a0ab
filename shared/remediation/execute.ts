// Carries out a remediation plan on S3, data safety first:
// - every write is conditional: a copy reads exactly the audited version (`?versionId=`) only if it
//   still has the audited ETag (CopySourceIfMatch, on every part of a multipart copy), and replaces the
//   object only if the current object still has that ETag (If-Match on CopyObject and
//   CompleteMultipartUpload) — a write that races the fix makes it fail with 412 and nothing is
//   overwritten, in versioned buckets too (where the audited version itself never changes);
// - a copy keeps what S3 would otherwise drop or reset: storage class, Object Lock settings, website
//   redirect, ACL grants (as grant headers on the copy itself, so there is no window with another
//   ACL), checksum algorithm; MetadataDirective/TaggingDirective COPY keep user and system metadata
//   and tags (a multipart upload sets them all explicitly);
// - a failed multipart copy is aborted (no orphaned parts);
// - after the fix, HeadObject again: the outcome is "fixed" only when S3 shows the target.
// UpdateObjectEncryption moves no data and cannot overwrite anything; it names the audited version.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectAclCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  UpdateObjectEncryptionCommand,
  UploadPartCopyCommand,
  type ChecksumAlgorithm,
  type CompletedPart,
  type CopyObjectCommandInput,
  type CreateMultipartUploadCommandInput,
  type GetObjectAclCommandOutput,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { errorFacts, type ServiceErrorFacts } from '../aws/errors.ts';
import { modeFromServerSideEncryption, type EncryptionMode } from '../domain/encryption.ts';
import type { RemediationOutcomeCode } from './outcomes.ts';
import {
  isAtTarget,
  planRemediation,
  type FixPlan,
  type PlanOptions,
  type RemediationFacts,
  type RemediationPlan,
  type RemediationTarget,
} from './plan.ts';

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

/** The encryption-relevant state of one object version, before or after a fix. */
export interface EncryptionSnapshot {
  mode: EncryptionMode;
  kmsKeyArn?: string;
  bucketKeyEnabled: boolean;
  versionId?: string;
  etag?: string;
}

export interface RemediationOutcome {
  outcome: RemediationOutcomeCode;
  /** The plan that was carried out (re-made when the fresh HeadObject showed a restored archive). */
  plan: RemediationPlan;
  /** What happened, for the findings history and the CLI. */
  message: string;
  /** What a person must do, when sseguard cannot. */
  instruction?: string;
  before: EncryptionSnapshot;
  after?: EncryptionSnapshot;
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

/** `bucket/key?versionId=…` URL-encoded as S3 expects x-amz-copy-source (the SDK sends it as given). */
export function copySource(bucket: string, key: string, versionId?: string): string {
  const path = key.split('/').map(encodeURIComponent).join('/');
  const version = versionId && versionId !== 'null' ? `?versionId=${encodeURIComponent(versionId)}` : '';
  return `${bucket}/${path}${version}`;
}

function snapshotFromHead(head: HeadObjectCommandOutput): EncryptionSnapshot {
  const mode = head.SSECustomerAlgorithm ? 'sse-c' : modeFromServerSideEncryption(head.ServerSideEncryption);
  return {
    mode,
    bucketKeyEnabled: head.BucketKeyEnabled === true,
    ...(head.SSEKMSKeyId && (mode === 'sse-kms' || mode === 'dsse-kms') ? { kmsKeyArn: head.SSEKMSKeyId } : {}),
    ...(head.VersionId ? { versionId: head.VersionId } : {}),
    ...(head.ETag ? { etag: head.ETag } : {}),
  };
}

function snapshotFromFacts(facts: RemediationFacts): EncryptionSnapshot {
  return {
    mode: facts.mode,
    bucketKeyEnabled: facts.bucketKeyEnabled,
    ...(facts.kmsKeyArn ? { kmsKeyArn: facts.kmsKeyArn } : {}),
    ...(facts.versionId ? { versionId: facts.versionId } : {}),
    ...(facts.etag ? { etag: facts.etag } : {}),
  };
}

/** The target as S3 write parameters (CopyObject, CreateMultipartUpload). */
function encryptionParameters(target: RemediationTarget) {
  switch (target.mode) {
    case 'sse-s3':
      return { ServerSideEncryption: 'AES256' as const };
    case 'sse-kms':
      return { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: target.kmsKey!, BucketKeyEnabled: target.bucketKey };
    case 'dsse-kms':
      return { ServerSideEncryption: 'aws:kms:dsse' as const, SSEKMSKeyId: target.kmsKey! };
  }
}

const CHECKSUM_FIELDS: [keyof HeadObjectCommandOutput, ChecksumAlgorithm][] = [
  ['ChecksumCRC64NVME', 'CRC64NVME'],
  ['ChecksumCRC32', 'CRC32'],
  ['ChecksumCRC32C', 'CRC32C'],
  ['ChecksumSHA1', 'SHA1'],
  ['ChecksumSHA256', 'SHA256'],
];

/** The object's checksum algorithm, from HeadObject with ChecksumMode ENABLED. */
export function checksumAlgorithmOf(head: HeadObjectCommandOutput): ChecksumAlgorithm | undefined {
  return CHECKSUM_FIELDS.find(([field]) => head[field] !== undefined)?.[1];
}

/** Object Lock settings to give the new version: the same as the audited one's, while in force. */
function lockParameters(head: HeadObjectCommandOutput, now: Date) {
  const retained =
    head.ObjectLockMode !== undefined &&
    head.ObjectLockRetainUntilDate !== undefined &&
    head.ObjectLockRetainUntilDate.getTime() > now.getTime();
  return {
    ...(retained ? { ObjectLockMode: head.ObjectLockMode, ObjectLockRetainUntilDate: head.ObjectLockRetainUntilDate } : {}),
    ...(head.ObjectLockLegalHoldStatus === 'ON' ? { ObjectLockLegalHoldStatus: 'ON' as const } : {}),
  };
}

type GrantHeaders = Partial<Record<'GrantRead' | 'GrantReadACP' | 'GrantWriteACP' | 'GrantFullControl', string>>;
const GRANT_HEADER: Record<string, keyof GrantHeaders> = {
  READ: 'GrantRead',
  READ_ACP: 'GrantReadACP',
  WRITE_ACP: 'GrantWriteACP',
  FULL_CONTROL: 'GrantFullControl',
};

/**
 * The object's ACL as grant headers. An ACL that only gives the owner FULL_CONTROL is what S3 gives a
 * new object anyway: no headers then, so the copy also works in buckets with ACLs disabled
 * (Object Ownership "bucket owner enforced" refuses any grant header).
 */
export function grantHeaders(acl: Pick<GetObjectAclCommandOutput, 'Owner' | 'Grants'>): GrantHeaders {
  const grants = acl.Grants ?? [];
  const ownerOnly =
    grants.length === 0 ||
    grants.every((g) => g.Permission === 'FULL_CONTROL' && g.Grantee?.Type === 'CanonicalUser' && g.Grantee.ID === acl.Owner?.ID);
  if (ownerOnly) return {};
  const headers: Record<string, string[]> = {};
  for (const grant of grants) {
    const header = GRANT_HEADER[grant.Permission ?? ''];
    const grantee = grant.Grantee;
    if (!header || !grantee) throw new Error(`cannot carry ACL grant ${grant.Permission} over a copy`);
    const who = grantee.ID
      ? `id="${grantee.ID}"`
      : grantee.URI
        ? `uri="${grantee.URI}"`
        : grantee.EmailAddress
          ? `emailAddress="${grantee.EmailAddress}"`
          : undefined;
    if (!who) throw new Error(`cannot carry an ACL grant without a grantee over a copy`);
    (headers[header] ??= []).push(who);
  }
  return Object.fromEntries(Object.entries(headers).map(([header, list]) => [header, list.join(', ')]));
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

class StepError extends Error {
  constructor(
    readonly operation: string,
    override readonly cause: unknown,
  ) {
    super(`${operation} failed`);
  }
}

async function step<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new StepError(operation, error);
  }
}

/** Runs tasks with at most `limit` in flight; after the first failure starts no more, waits, rethrows. */
async function runBounded<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < count) {
      const index = next++;
      try {
        results[index] = await task(index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (failure) throw failure.error;
  return results;
}

/** Reads the audited version as it is now — only if it still has the audited ETag. */
async function readSource(s3: S3Client, facts: RemediationFacts): Promise<HeadObjectCommandOutput> {
  return step('HeadObject', () =>
    s3.send(
      new HeadObjectCommand({
        Bucket: facts.bucket,
        Key: facts.key,
        IfMatch: facts.etag,
        ChecksumMode: 'ENABLED',
        ...(facts.versionId && facts.versionId !== 'null' ? { VersionId: facts.versionId } : {}),
      }),
    ),
  );
}

/** S3's `Restore: ongoing-request="false", expiry-date=…` means a readable restored copy exists. */
const isRestored = (head: HeadObjectCommandOutput): boolean => /ongoing-request="false"/.test(head.Restore ?? '');

async function updateEncryption(s3: S3Client, plan: Extract<FixPlan, { action: 'update-encryption' }>): Promise<string | undefined> {
  await step('UpdateObjectEncryption', () =>
    s3.send(
      new UpdateObjectEncryptionCommand({
        Bucket: plan.bucket,
        Key: plan.key,
        ...(plan.versionId && plan.versionId !== 'null' ? { VersionId: plan.versionId } : {}),
        ObjectEncryption: { SSEKMS: { KMSKeyArn: plan.kmsKeyArn, BucketKeyEnabled: plan.target.bucketKey } },
      }),
    ),
  );
  // An in-place update keeps the version id.
  return plan.versionId;
}

/** What every kind of copy carries over from the source, beside metadata and tags. */
function preservedParameters(head: HeadObjectCommandOutput, acl: GetObjectAclCommandOutput, now: Date) {
  const checksumAlgorithm = checksumAlgorithmOf(head);
  return {
    ...(head.StorageClass ? { StorageClass: head.StorageClass } : {}),
    ...(head.WebsiteRedirectLocation ? { WebsiteRedirectLocation: head.WebsiteRedirectLocation } : {}),
    ...(checksumAlgorithm ? { ChecksumAlgorithm: checksumAlgorithm } : {}),
    ...lockParameters(head, now),
    ...grantHeaders(acl),
  };
}

async function copyInPlace(
  s3: S3Client,
  plan: Extract<FixPlan, { action: 'copy' }>,
  head: HeadObjectCommandOutput,
  now: Date,
): Promise<string | undefined> {
  const acl = await step('GetObjectAcl', () =>
    s3.send(new GetObjectAclCommand({ Bucket: plan.bucket, Key: plan.key, ...versionParameter(plan) })),
  );
  const input: CopyObjectCommandInput = {
    Bucket: plan.bucket,
    Key: plan.key,
    CopySource: copySource(plan.bucket, plan.key, plan.versionId),
    CopySourceIfMatch: plan.etag,
    IfMatch: plan.etag,
    MetadataDirective: 'COPY',
    TaggingDirective: 'COPY',
    ...preservedParameters(head, acl, now),
    ...encryptionParameters(plan.target),
  };
  const copied = await step('CopyObject', () => s3.send(new CopyObjectCommand(input)));
  return copied.VersionId;
}

const versionParameter = (plan: { versionId?: string }) =>
  plan.versionId && plan.versionId !== 'null' ? { VersionId: plan.versionId } : {};

async function multipartCopyInPlace(
  s3: S3Client,
  plan: Extract<FixPlan, { action: 'multipart-copy' }>,
  head: HeadObjectCommandOutput,
  now: Date,
  partConcurrency: number,
): Promise<{ versionId?: string; notes: string[] }> {
  const acl = await step('GetObjectAcl', () =>
    s3.send(new GetObjectAclCommand({ Bucket: plan.bucket, Key: plan.key, ...versionParameter(plan) })),
  );
  const tagging = await step('GetObjectTagging', () =>
    s3.send(new GetObjectTaggingCommand({ Bucket: plan.bucket, Key: plan.key, ...versionParameter(plan) })),
  );
  const tagSet = tagging.TagSet ?? [];
  const preserved = preservedParameters(head, acl, now);
  const input: CreateMultipartUploadCommandInput = {
    Bucket: plan.bucket,
    Key: plan.key,
    // A multipart upload copies nothing by itself: every attribute is given explicitly.
    ...(head.Metadata ? { Metadata: head.Metadata } : {}),
    ...(head.ContentType ? { ContentType: head.ContentType } : {}),
    ...(head.CacheControl ? { CacheControl: head.CacheControl } : {}),
    ...(head.ContentDisposition ? { ContentDisposition: head.ContentDisposition } : {}),
    ...(head.ContentEncoding ? { ContentEncoding: head.ContentEncoding } : {}),
    ...(head.ContentLanguage ? { ContentLanguage: head.ContentLanguage } : {}),
    ...(head.Expires ? { Expires: head.Expires } : {}),
    ...(tagSet.length > 0
      ? { Tagging: new URLSearchParams(tagSet.map((tag): [string, string] => [tag.Key ?? '', tag.Value ?? ''])).toString() }
      : {}),
    ...preserved,
    // CRC64NVME checksums exist only as full-object checksums.
    ...(preserved.ChecksumAlgorithm === 'CRC64NVME' ? { ChecksumType: 'FULL_OBJECT' as const } : {}),
    ...encryptionParameters(plan.target),
  };
  const upload = await step('CreateMultipartUpload', () => s3.send(new CreateMultipartUploadCommand(input)));
  const uploadId = upload.UploadId!;
  const source = copySource(plan.bucket, plan.key, plan.versionId);
  try {
    const parts = await runBounded(plan.partCount, partConcurrency, async (index): Promise<CompletedPart> => {
      const start = index * plan.partSizeBytes;
      const end = Math.min(start + plan.partSizeBytes, plan.size) - 1;
      const part = await step('UploadPartCopy', () =>
        s3.send(
          new UploadPartCopyCommand({
            Bucket: plan.bucket,
            Key: plan.key,
            UploadId: uploadId,
            PartNumber: index + 1,
            CopySource: source,
            CopySourceIfMatch: plan.etag,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        ),
      );
      const { ETag, ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256 } = part.CopyPartResult ?? {};
      return Object.fromEntries(
        Object.entries({ PartNumber: index + 1, ETag, ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256 }).filter(
          ([, value]) => value !== undefined,
        ),
      ) as CompletedPart;
    });
    const completed = await step('CompleteMultipartUpload', () =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: plan.bucket,
          Key: plan.key,
          UploadId: uploadId,
          IfMatch: plan.etag,
          MultipartUpload: { Parts: parts },
        }),
      ),
    );
    return { ...(completed.VersionId ? { versionId: completed.VersionId } : {}), notes: [] };
  } catch (error) {
    try {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: plan.bucket, Key: plan.key, UploadId: uploadId }));
    } catch (abortError) {
      const { name, message } = errorFacts(abortError);
      // Parts left behind cost storage until a lifecycle rule aborts incomplete uploads: say so.
      throw Object.assign(error as object, {
        abortFailure: `AbortMultipartUpload ${uploadId} failed (${name}: ${message}): abort it by hand`,
      });
    }
    throw error;
  }
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
  let plan = planRemediation({ facts, target, now, options });
  const finish = (rest: Omit<RemediationOutcome, 'plan' | 'before' | 'notes'> & { notes?: string[] }): RemediationOutcome => ({
    plan,
    before,
    ...rest,
    notes: [...('notes' in plan ? plan.notes : []), ...(rest.notes ?? [])],
  });

  if (plan.action === 'none') return finish({ outcome: 'already-at-target', message: plan.why });
  // An archived object may have been restored since the audit: only a fresh HeadObject tells.
  const mayBeRestored = plan.action === 'blocked' && plan.outcome === 'blocked-archived' && !facts.archiveStatus && facts.restored === undefined;
  if (plan.action === 'blocked' && !(mayBeRestored && !options.dryRun)) {
    return finish({ outcome: plan.outcome, message: plan.why, instruction: plan.instruction });
  }
  if (options.dryRun) return finish({ outcome: 'planned', message: `would apply ${plan.action}` });
  if (!facts.etag) {
    return finish({ outcome: 'failed', message: 'the audit recorded no ETag: sseguard never changes an object without a condition' });
  }

  try {
    let head: HeadObjectCommandOutput | undefined;
    if (plan.action !== 'update-encryption') {
      head = await readSource(deps.s3, facts);
      if (plan.action === 'blocked') {
        plan = planRemediation({ facts: { ...facts, restored: isRestored(head) }, target, now, options });
        if (plan.action === 'blocked') return finish({ outcome: plan.outcome, message: plan.why, instruction: plan.instruction });
      }
    }
    let versionId: string | undefined;
    const extraNotes: string[] = [];
    switch (plan.action) {
      case 'update-encryption':
        versionId = await updateEncryption(deps.s3, plan);
        break;
      case 'copy':
        versionId = await copyInPlace(deps.s3, plan, head!, now);
        break;
      case 'multipart-copy': {
        const result = await multipartCopyInPlace(deps.s3, plan, head!, now, options.partConcurrency ?? DEFAULT_PART_CONCURRENCY);
        versionId = result.versionId;
        extraNotes.push(...result.notes);
        break;
      }
      default:
        throw new Error(`unexpected plan ${plan.action}`);
    }
    const afterHead = await step('HeadObject', () =>
      deps.s3.send(
        new HeadObjectCommand({ Bucket: facts.bucket, Key: facts.key, ...(versionId && versionId !== 'null' ? { VersionId: versionId } : {}) }),
      ),
    );
    const after = snapshotFromHead(afterHead);
    if (!isAtTarget(after, target)) {
      return finish({
        outcome: 'unverified',
        message: `${plan.action} was accepted but HeadObject shows ${after.mode}${after.kmsKeyArn ? ` with ${after.kmsKeyArn}` : ''}${after.bucketKeyEnabled ? ' +bucket key' : ''}, not the target`,
        instruction: 'check the object by hand; it is re-audited on its next event or sweep',
        after,
        notes: extraNotes,
      });
    }
    return finish({ outcome: 'fixed', message: `${plan.action}: ${before.mode} → ${after.mode}`, after, notes: extraNotes });
  } catch (error) {
    const operation = error instanceof StepError ? error.operation : 'remediation';
    const cause = error instanceof StepError ? error.cause : error;
    const abortFailure = (error as { abortFailure?: string }).abortFailure;
    return finish({ ...outcomeOfError(cause, operation), ...(abortFailure ? { notes: [abortFailure] } : {}) });
  }
}
