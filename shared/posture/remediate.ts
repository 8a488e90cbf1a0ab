// Bucket posture remediation, opt-in and reversible. Planning is pure: from the facts just read and
// the rule's target, the exact new default-encryption configuration and the exact merged policy
// text. Applying re-reads each value first and refuses if it changed since the audit; every change
// is returned with the value it replaced, so a person (or `sseguard rollback`) can restore it.
import { randomUUID } from 'node:crypto';
import {
  DeleteBucketEncryptionCommand,
  DeleteBucketPolicyCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  type S3Client,
  type ServerSideEncryptionConfiguration,
} from '@aws-sdk/client-s3';
import type { Requirement } from '../domain/policy.ts';
import type { PostureFinding } from '../domain/posture-finding.ts';
import type { EncryptionConfiguration, PlannedChange, PostureChange, PostureChangeKind } from '../domain/posture-change.ts';
import type { S3BucketInspector } from './bucket-inspector.ts';
import { ALGORITHM_OF, defaultEncryptionFrom, sseCBlocking, type BucketFacts } from './facts.ts';
import { lineDiff, mergeTlsDeny } from './policy-merge.ts';

export interface RefusedChange {
  kind: PostureChangeKind;
  reason: string;
}

export interface PosturePlan {
  bucket: string;
  changes: PlannedChange[];
  refused: RefusedChange[];
}

const codes = (finding: PostureFinding) => new Set(finding.reasons.map((r) => r.code));

/** What to change so the bucket meets its posture requirement; never touches what is already right. */
export function planPostureRemediation(facts: BucketFacts, finding: PostureFinding, requirement: Requirement): PosturePlan {
  const plan: PosturePlan = { bucket: facts.bucket, changes: [], refused: [] };
  const found = codes(finding);
  const defaultWrong = [...found].filter((c) => c.startsWith('bucket-default-'));
  const blockSseC = requirement.posture.blockSseC && sseCBlocking(facts.defaultEncryption) !== 'blocked';
  const encryption = facts.defaultEncryption;

  if (defaultWrong.length > 0 || blockSseC) {
    if (encryption.status === 'unreadable') {
      plan.refused.push({ kind: 'default-encryption', reason: `the default encryption cannot be read (${encryption.detail})` });
    } else if (defaultWrong.length > 0 && !requirement.target) {
      plan.refused.push({ kind: 'default-encryption', reason: 'the policy names no target to set as the default' });
    } else {
      const current = encryption.status === 'configured' ? encryption.configuration.Rules[0] : undefined;
      const target = requirement.target;
      const byDefault =
        defaultWrong.length > 0 && target
          ? { SSEAlgorithm: ALGORITHM_OF[target.mode], ...(target.kmsKey ? { KMSMasterKeyID: target.kmsKey } : {}) }
          : (current?.ApplyServerSideEncryptionByDefault ?? { SSEAlgorithm: 'AES256' });
      const bucketKey = defaultWrong.length > 0 && target ? target.mode === 'sse-kms' && target.bucketKey : current?.BucketKeyEnabled;
      const blocked = blockSseC ? { EncryptionType: ['SSE-C'] } : current?.BlockedEncryptionTypes;
      plan.changes.push({
        kind: 'default-encryption',
        before: encryption.status === 'configured' ? encryption.configuration : null,
        after: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: byDefault,
              ...(bucketKey === undefined ? {} : { BucketKeyEnabled: bucketKey }),
              ...(blocked ? { BlockedEncryptionTypes: blocked } : {}),
            },
          ],
        },
        fixes: [...defaultWrong, ...(blockSseC ? (['sse-c-not-blocked'] as const) : [])],
      });
    }
  }

  if (requirement.posture.requireTls && finding.tls !== 'enforced') {
    if (facts.policy.status === 'unreadable') {
      plan.refused.push({ kind: 'bucket-policy', reason: `the bucket policy cannot be read (${facts.policy.detail}); nothing was changed` });
    } else {
      const before = facts.policy.status === 'read' ? facts.policy.text : undefined;
      const merged = mergeTlsDeny(before, facts.bucket, facts.partition);
      if (merged.status === 'refused') plan.refused.push({ kind: 'bucket-policy', reason: merged.reason });
      if (merged.status === 'merged') {
        plan.changes.push({
          kind: 'bucket-policy',
          before: before ?? null,
          after: merged.text,
          fixes: ['tls-not-required'],
          diff: lineDiff(before ?? '', merged.text),
        });
      }
    }
  }
  return plan;
}

/** The same configuration, as far as S3's behaviour goes (S3 may spell defaults out or leave them out). */
export function sameConfiguration(a: EncryptionConfiguration | null | undefined, b: EncryptionConfiguration | null | undefined): boolean {
  const meaning = (c: EncryptionConfiguration | null | undefined) => {
    if (!c) return 'none';
    const read = defaultEncryptionFrom(c);
    if (read.status !== 'configured') return 'none';
    return JSON.stringify([read.algorithm, read.kmsKeyRef ?? null, read.bucketKeyEnabled, read.blockedEncryptionTypes ?? null]);
  };
  return meaning(a) === meaning(b);
}

/** The same policy document (S3 may re-serialise whitespace). */
export function samePolicy(a: string | null | undefined, b: string | null | undefined): boolean {
  const canonical = (text: string | null | undefined) => {
    if (text === null || text === undefined) return 'none';
    try {
      return JSON.stringify(JSON.parse(text));
    } catch {
      return text;
    }
  };
  return canonical(a) === canonical(b);
}

async function currentValue(inspector: S3BucketInspector, bucket: string, kind: PostureChangeKind) {
  if (kind === 'default-encryption') return (await inspector.readConfiguration(bucket)) ?? null;
  const policy = await inspector.readPolicy(bucket);
  if (policy.status === 'unreadable') throw new Error(policy.detail);
  return policy.status === 'read' ? policy.text : null;
}

async function write(s3: S3Client, bucket: string, kind: PostureChangeKind, value: EncryptionConfiguration | string | null) {
  if (kind === 'default-encryption') {
    if (value === null) await s3.send(new DeleteBucketEncryptionCommand({ Bucket: bucket }));
    else await s3.send(new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: value as ServerSideEncryptionConfiguration }));
    return;
  }
  // ConfirmRemoveSelfBucketAccess stays false: S3 refuses a policy that would lock the caller out.
  if (value === null) await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
  else await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: value as string }));
}

const unchangedSince = (kind: PostureChangeKind, current: EncryptionConfiguration | string | null, expected: EncryptionConfiguration | string | null) =>
  kind === 'default-encryption'
    ? sameConfiguration(current as EncryptionConfiguration | null, expected as EncryptionConfiguration | null)
    : samePolicy(current as string | null, expected as string | null);

export interface ApplyResult {
  applied: PostureChange[];
  refused: RefusedChange[];
}

/** Applies a plan, each change only if the value is still the one the plan was made from. */
export async function applyPosturePlan(s3: S3Client, inspector: S3BucketInspector, plan: PosturePlan, now: () => Date = () => new Date()): Promise<ApplyResult> {
  const result: ApplyResult = { applied: [], refused: [...plan.refused] };
  for (const change of plan.changes) {
    const current = await currentValue(inspector, plan.bucket, change.kind);
    if (!unchangedSince(change.kind, current, change.before)) {
      result.refused.push({ kind: change.kind, reason: 'it changed since it was read; audit again before remediating' });
      continue;
    }
    await write(s3, plan.bucket, change.kind, change.after);
    result.applied.push({ ...change, id: randomUUID(), bucket: plan.bucket, at: now().toISOString() } as PostureChange);
  }
  return result;
}

/** Restores the value a change replaced, unless someone changed it again since (then `force` is needed). */
export async function applyRollback(s3: S3Client, inspector: S3BucketInspector, change: PostureChange, options: { force?: boolean } = {}): Promise<void> {
  const current = await currentValue(inspector, change.bucket, change.kind);
  if (!options.force && !unchangedSince(change.kind, current, change.after)) {
    throw new Error(`the ${change.kind} of ${change.bucket} changed after sseguard's change ${change.id}; not rolled back (use --force to restore it anyway)`);
  }
  await write(s3, change.bucket, change.kind, change.before);
}

const shellQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/** The AWS CLI commands that undo a change, for a person to review and run. */
export function rollbackCommands(change: PostureChange): string {
  const bucket = shellQuote(change.bucket);
  if (change.kind === 'default-encryption') {
    return change.before === null
      ? `aws s3api delete-bucket-encryption --bucket ${bucket}`
      : `aws s3api put-bucket-encryption --bucket ${bucket} --server-side-encryption-configuration ${shellQuote(JSON.stringify(change.before))}`;
  }
  return change.before === null
    ? `aws s3api delete-bucket-policy --bucket ${bucket}`
    : `aws s3api put-bucket-policy --bucket ${bucket} --policy ${shellQuote(change.before)}`;
}
