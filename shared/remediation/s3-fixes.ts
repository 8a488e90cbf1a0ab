// The S3 calls of a fix, each conditional:
// - a copy reads exactly the audited version (`?versionId=`) only if it still has the audited ETag
//   (CopySourceIfMatch, on every part of a multipart copy), and replaces the object only if the
//   current object still has that ETag (If-Match on CopyObject and CompleteMultipartUpload) — a write
//   that races the fix makes it fail with 412 and nothing is overwritten, in versioned buckets too
//   (where the audited version itself never changes);
// - MetadataDirective/TaggingDirective COPY keep user and system metadata and tags;
// - a copy whose answer was lost (no answer, timeout, 5xx) is not retried blindly: the key's current
//   version says whether it was made, so a retry never leaves a second new version;
// - a failed multipart copy is aborted (no orphaned parts);
// - UpdateObjectEncryption moves no data and cannot overwrite anything; it names the audited version.
// Every call runs in a `step` so that the orchestration (execute.ts) can say which one S3 refused.
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
  type CompletedPart,
  type CopyObjectCommandInput,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FinalizeRequestMiddleware, MiddlewareStack } from '@smithy/types';
import { errorFacts, mayHaveBeenApplied } from '../aws/errors.ts';
import { encryptionOfHead } from '../inspect/head-encryption.ts';
import {
  copySource,
  encryptionParameters,
  multipartUploadInput,
  partRange,
  preservedParameters,
  versionParameter,
} from './copy-parameters.ts';
import type { FixPlan, RemediationFacts } from './fix-plan.ts';

/** A failed S3 call, with the operation's name for the outcome message. */
export class StepError extends Error {
  constructor(
    readonly operation: string,
    override readonly cause: unknown,
  ) {
    super(`${operation} failed`);
  }
}

export async function step<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new StepError(operation, error);
  }
}

/**
 * A write whose answer was lost: it may or may not have been applied. Deliberately no `cause`: the
 * SDK's retry classifier follows `cause`, and this error must not be retried blindly.
 */
export class WriteOutcomeUnknown extends Error {
  override name = 'WriteOutcomeUnknown';
  constructor(
    operation: string,
    readonly original: unknown,
  ) {
    const { name, message } = errorFacts(original);
    super(`${operation} got no usable answer (${name}: ${message}); whether S3 applied it is not known`);
  }
}

/**
 * Stops the SDK's own retries of a command for answers that may hide an applied write: its caller
 * looks at the object before trying again. Throttling is still retried by the SDK.
 */
function stopBlindRetries<I extends object, O extends object>(stack: MiddlewareStack<I, O>, operation: string): void {
  const outcomeUnknown: FinalizeRequestMiddleware<I, O> = (next) => async (args) => {
    try {
      return await next(args);
    } catch (error) {
      throw mayHaveBeenApplied(error) ? new WriteOutcomeUnknown(operation, error) : error;
    }
  };
  stack.addRelativeTo(outcomeUnknown, { relation: 'after', toMiddleware: 'retryMiddleware', name: 'sseguardWriteOutcomeUnknown', override: true });
}

/** Writes to try when a write's answer was lost and the object shows it was not made. */
const WRITE_ATTEMPTS = 3;

type InPlacePlan = Extract<FixPlan, { action: 'copy' | 'multipart-copy' }>;

/**
 * The write that makes the fixed version (CopyObject, CompleteMultipartUpload), made at most once.
 * Neither is idempotent in a versioned bucket: a retry of a write whose answer was lost makes a second
 * version, and the destination's If-Match cannot tell (a copy of the same bytes may keep the ETag, as
 * unencrypted and SSE-S3 objects do). So when the answer is lost the key's current version decides:
 * still the audited one → write again; a new version at the target → that write was made; anything
 * else → the error stands (something else wrote the key; the next audit sees it).
 */
async function writeFixedVersion(s3: S3Client, plan: InPlacePlan, operation: string, send: () => Promise<{ VersionId?: string }>): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await step(operation, send)).VersionId;
    } catch (error) {
      if (!(error instanceof StepError && error.cause instanceof WriteOutcomeUnknown)) throw error;
      const current = await readResult(s3, { bucket: plan.bucket, key: plan.key });
      const stillAudited = plan.versionId !== undefined ? current.VersionId === plan.versionId : !atTarget(current, plan.target);
      if (!stillAudited && atTarget(current, plan.target)) return current.VersionId;
      if (!stillAudited || attempt >= WRITE_ATTEMPTS) throw error;
      await sleep(100 * 2 ** attempt);
    }
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
export function readSource(s3: S3Client, facts: RemediationFacts): Promise<HeadObjectCommandOutput> {
  return step('HeadObject', () =>
    s3.send(new HeadObjectCommand({ Bucket: facts.bucket, Key: facts.key, IfMatch: facts.etag, ChecksumMode: 'ENABLED', ...versionParameter(facts) })),
  );
}

/** The version id of the key's current version (HeadObject without a version id). */
export async function currentVersionId(s3: S3Client, object: { bucket: string; key: string }): Promise<string | undefined> {
  const head = await step('HeadObject', () => s3.send(new HeadObjectCommand({ Bucket: object.bucket, Key: object.key })));
  return head.VersionId;
}

/** What S3 shows for the version a fix left (the audited one after an update, the new one after a copy). */
export function readResult(s3: S3Client, object: { bucket: string; key: string; versionId?: string }): Promise<HeadObjectCommandOutput> {
  return step('HeadObject', () => s3.send(new HeadObjectCommand({ Bucket: object.bucket, Key: object.key, ...versionParameter(object) })));
}

/** S3's `Restore: ongoing-request="false", expiry-date=…` means a readable restored copy exists. */
export const isRestored = (head: HeadObjectCommandOutput): boolean => /ongoing-request="false"/.test(head.Restore ?? '');

export async function updateEncryption(s3: S3Client, plan: Extract<FixPlan, { action: 'update-encryption' }>): Promise<string | undefined> {
  await step('UpdateObjectEncryption', () =>
    s3.send(
      new UpdateObjectEncryptionCommand({
        Bucket: plan.bucket,
        Key: plan.key,
        ...versionParameter(plan),
        ObjectEncryption: { SSEKMS: { KMSKeyArn: plan.kmsKeyArn, BucketKeyEnabled: plan.target.bucketKey } },
      }),
    ),
  );
  // An in-place update keeps the version id.
  return plan.versionId;
}

export async function copyInPlace(
  s3: S3Client,
  plan: Extract<FixPlan, { action: 'copy' }>,
  head: HeadObjectCommandOutput,
  now: Date,
): Promise<string | undefined> {
  const acl = await step('GetObjectAcl', () => s3.send(new GetObjectAclCommand({ Bucket: plan.bucket, Key: plan.key, ...versionParameter(plan) })));
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
  return writeFixedVersion(s3, plan, 'CopyObject', () => {
    const command = new CopyObjectCommand(input);
    stopBlindRetries(command.middlewareStack, 'CopyObject');
    return s3.send(command);
  });
}

/** Whether S3 reports the object encrypted as the fix's target says. */
function atTarget(head: HeadObjectCommandOutput, target: InPlacePlan['target']): boolean {
  const seen = encryptionOfHead(head);
  if (seen.mode !== target.mode) return false;
  if (target.mode === 'sse-s3') return true;
  return seen.kmsKeyArn === target.kmsKey && (target.mode === 'dsse-kms' || seen.bucketKeyEnabled === target.bucketKey);
}

export async function multipartCopyInPlace(
  s3: S3Client,
  plan: Extract<FixPlan, { action: 'multipart-copy' }>,
  head: HeadObjectCommandOutput,
  now: Date,
  partConcurrency: number,
): Promise<{ versionId?: string }> {
  const acl = await step('GetObjectAcl', () => s3.send(new GetObjectAclCommand({ Bucket: plan.bucket, Key: plan.key, ...versionParameter(plan) })));
  const tagging = await step('GetObjectTagging', () =>
    s3.send(new GetObjectTaggingCommand({ Bucket: plan.bucket, Key: plan.key, ...versionParameter(plan) })),
  );
  const upload = await step('CreateMultipartUpload', () => s3.send(new CreateMultipartUploadCommand(multipartUploadInput(plan, { head, acl, tagging }, now))));
  const uploadId = upload.UploadId!;
  const source = copySource(plan.bucket, plan.key, plan.versionId);
  try {
    const parts = await runBounded(plan.partCount, partConcurrency, async (index): Promise<CompletedPart> => {
      const part = await step('UploadPartCopy', () =>
        s3.send(
          new UploadPartCopyCommand({
            Bucket: plan.bucket,
            Key: plan.key,
            UploadId: uploadId,
            PartNumber: index + 1,
            CopySource: source,
            CopySourceIfMatch: plan.etag,
            CopySourceRange: partRange(index, plan.partSizeBytes, plan.size),
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
    const versionId = await writeFixedVersion(s3, plan, 'CompleteMultipartUpload', () => {
      const command = new CompleteMultipartUploadCommand({ Bucket: plan.bucket, Key: plan.key, UploadId: uploadId, IfMatch: plan.etag, MultipartUpload: { Parts: parts } });
      stopBlindRetries(command.middlewareStack, 'CompleteMultipartUpload');
      return s3.send(command);
    });
    return versionId ? { versionId } : {};
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
