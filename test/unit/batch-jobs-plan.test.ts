// The pure part of bulk fixes with S3 Batch Operations: which objects go to a job and which job, the
// limits AWS sets (key of the bucket owner's account, SSE-S3/SSE-KMS sources, one key per job), the
// idempotency token, what a report row records, and the exit code of `sseguard jobs`.
import { describe, expect, test } from 'vitest';
import type { ObjectAudit } from '../../shared/audit/audit-object.ts';
import type { ObjectFacts } from '../../shared/domain/encryption.ts';
import { createBatchRemediator } from '../../shared/batch-operations/batch-remediator.ts';
import { completionRow } from '../../shared/batch-operations/job-files.ts';
import {
  batchGroupKey,
  batchSettingsProblems,
  clientRequestToken,
  decideBatch,
  jobsExitCode,
  manifestKeyOf,
  taskRecord,
} from '../../shared/batch-operations/job-rules.ts';
import { planRemediation, type RemediationTarget } from '../../shared/remediation/fix-plan.ts';

const ACCOUNT = '111122223333';
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_ACCOUNT_KEY = 'arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const NOW = new Date('2026-12-01T10:00:00.000Z');

function facts(overrides: Partial<ObjectFacts> = {}): ObjectFacts {
  return {
    bucket: 'data',
    key: 'a.txt',
    size: 10,
    storageClass: 'STANDARD',
    mode: 'sse-s3',
    bucketKeyEnabled: false,
    versionId: 'v1',
    etag: '"e1"',
    objectLock: { legalHold: false },
    ...overrides,
  };
}

const target = (kmsKey = KEY, bucketKey = true): RemediationTarget => ({ mode: 'sse-kms', kmsKey, bucketKey });
const decide = (f: ObjectFacts & { isLatest?: boolean }, t = target()) => decideBatch(planRemediation({ facts: f, target: t, now: NOW }), ACCOUNT, f.isLatest);

describe('which objects a Batch job takes', () => {
  test('SSE-S3 and SSE-KMS sources bound for an SSE-KMS key of the account go to the job of that key and Bucket Key setting', () => {
    expect(decide(facts({ isLatest: true } as Partial<ObjectFacts>))).toEqual({ kind: 'batch', target: { kmsKeyArn: KEY, bucketKey: true } });
    expect(decide(facts({ mode: 'sse-kms', kmsKeyArn: OTHER_ACCOUNT_KEY }), target(KEY, false))).toEqual({ kind: 'batch', target: { kmsKeyArn: KEY, bucketKey: false } });
  });

  test('unencrypted, DSSE-KMS and SSE-C sources, targets other than SSE-KMS, and noncurrent versions stay on the per-object path', () => {
    expect(decide(facts({ mode: 'none' }))).toEqual({ kind: 'per-object' });
    expect(decide(facts({ mode: 'dsse-kms', kmsKeyArn: KEY }))).toEqual({ kind: 'per-object' });
    expect(decide(facts({ mode: 'sse-c' }))).toEqual({ kind: 'per-object' });
    expect(decide(facts({ mode: 'sse-kms', kmsKeyArn: KEY }), { mode: 'sse-s3', bucketKey: false })).toEqual({ kind: 'per-object' });
    expect(decide({ ...facts(), isLatest: false } as ObjectFacts & { isLatest: boolean })).toEqual({ kind: 'per-object' });
    // Already at the target: nothing to fix at all.
    expect(decide(facts({ mode: 'sse-kms', kmsKeyArn: KEY, bucketKeyEnabled: true }))).toEqual({ kind: 'per-object' });
  });

  test('a target key of another account than the one the job runs in is refused, saying so and what to do', () => {
    const decision = decide(facts(), target(OTHER_ACCOUNT_KEY));
    expect(decision).toMatchObject({ kind: 'refused', outcome: 'blocked-key-other-account' });
    if (decision.kind !== 'refused') throw new Error('not refused');
    expect(decision.why).toContain(`belongs to account 444455556666, not to ${ACCOUNT}`);
    expect(decision.instruction).toContain(`a key of account ${ACCOUNT}`);
  });

  test('one job per bucket, key and Bucket Key setting', () => {
    const groups = new Set([
      batchGroupKey('data', { kmsKeyArn: KEY, bucketKey: true }),
      batchGroupKey('data', { kmsKeyArn: KEY, bucketKey: true }),
      batchGroupKey('data', { kmsKeyArn: KEY, bucketKey: false }),
      batchGroupKey('logs', { kmsKeyArn: KEY, bucketKey: true }),
      batchGroupKey('data', { kmsKeyArn: OTHER_ACCOUNT_KEY, bucketKey: true }),
    ]);
    expect(groups.size).toBe(4);
    expect(manifestKeyOf('sseguard-batch/', 'data', 'r1')).toBe('sseguard-batch/manifests/data/r1.csv');
  });
});

describe('the settings a job needs', () => {
  const good = { accountId: ACCOUNT, roleArn: `arn:aws:iam::${ACCOUNT}:role/batch`, reportBucket: 'reports', prefix: 'p', priority: 10 };
  test('complete settings pass; each missing or malformed one is named', () => {
    expect(batchSettingsProblems(good)).toEqual([]);
    expect(batchSettingsProblems({ ...good, accountId: undefined, roleArn: undefined, reportBucket: undefined })).toEqual([
      expect.stringContaining('SSEGUARD_ACCOUNT_ID'),
      expect.stringContaining('--batch-role'),
      expect.stringContaining('--batch-report-bucket'),
    ]);
    expect(batchSettingsProblems({ ...good, roleArn: 'arn:aws:iam::1:user/x', accountId: '12', priority: -1 })).toHaveLength(3);
  });
});

describe('the ClientRequestToken', () => {
  const input = {
    manifestSha256: 'a'.repeat(64),
    manifestKey: 'p/manifests/data/r1.csv',
    target: { kmsKeyArn: KEY, bucketKey: true },
    settings: { roleArn: `arn:aws:iam::${ACCOUNT}:role/batch`, reportBucket: 'reports', priority: 10 },
  };
  test('the same manifest and settings give the same token (64 hex digits, the most CreateJob takes); any change gives another', () => {
    const token = clientRequestToken(input);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(clientRequestToken(structuredClone(input))).toBe(token);
    const variants = [
      { ...input, manifestSha256: 'b'.repeat(64) },
      { ...input, manifestKey: 'p/manifests/data/r2.csv' },
      { ...input, target: { kmsKeyArn: KEY, bucketKey: false } },
      { ...input, settings: { ...input.settings, priority: 11 } },
      { ...input, settings: { ...input.settings, roleArn: `arn:aws:iam::${ACCOUNT}:role/other` } },
    ];
    expect(new Set([token, ...variants.map(clientRequestToken)]).size).toBe(variants.length + 1);
  });
});

describe('what a completion-report row records', () => {
  const before = { mode: 'sse-s3' as const, bucketKeyEnabled: false, versionId: 'v1', etag: '"e1"' };
  test('a succeeded task is the fix, by the job; a failed one carries S3 error code and message', () => {
    const ok = taskRecord(completionRow(['data', 'a.txt', 'v1', 'succeeded', '200', '', 'Successful'], 0), { jobId: 'J', before }, NOW);
    expect(ok).toMatchObject({ action: 'update-encryption', outcome: 'fixed', batchJobId: 'J', before });
    const failed = taskRecord(completionRow(['data', 'a.txt', 'v1', 'failed', '404', 'NoSuchVersion', 'The specified version does not exist.'], 1), { jobId: 'J', before }, NOW);
    expect(failed).toMatchObject({ outcome: 'batch-task-failed', errorCode: 'NoSuchVersion', batchJobId: 'J' });
    expect(failed.detail).toContain('404 NoSuchVersion: The specified version does not exist.');
  });
  test('a task S3 reports done is fixed only when HeadObject of the version it changed shows the target; else unverified', () => {
    const target = { mode: 'sse-kms' as const, kmsKey: KEY, bucketKey: true };
    const row = completionRow(['data', 'a.txt', 'v1', 'succeeded', '200', '', 'Successful'], 0);
    const atTarget = { mode: 'sse-kms' as const, kmsKeyArn: KEY, bucketKeyEnabled: true, versionId: 'v1' };
    expect(taskRecord(row, { jobId: 'J', before, after: atTarget, target }, NOW)).toMatchObject({ outcome: 'fixed', after: atTarget });
    // The version the job changed still reads SSE-S3 (the after of another version must never stand for it).
    const unchanged = taskRecord(row, { jobId: 'J', before, after: { ...before }, target }, NOW);
    expect(unchanged).toMatchObject({ outcome: 'unverified', batchJobId: 'J' });
    expect(unchanged.detail).toContain('HeadObject of version v1 shows sse-s3');
  });
});

describe('the exit code of sseguard jobs', () => {
  test('2 while a job is open or unfolded, else 1 when a task failed, else 0', () => {
    expect(jobsExitCode({ open: 1, failedTasks: 3 })).toBe(2);
    expect(jobsExitCode({ open: 0, failedTasks: 3 })).toBe(1);
    expect(jobsExitCode({ open: 0, failedTasks: 0 })).toBe(0);
  });
});

describe('the Batch remediator', () => {
  const audit = (f: ObjectFacts, kmsKey: string): ObjectAudit => ({
    finding: { bucket: f.bucket, key: f.key, size: f.size, mode: f.mode, verdict: 'noncompliant', reasons: [], remediate: true, auditedAt: NOW.toISOString() },
    inspection: { status: 'read', facts: f },
    requirement: { remediate: true, target: { mode: 'sse-kms', kmsKey, bucketKey: true } } as ObjectAudit['requirement'],
  });
  function remediator() {
    const calls = { perObject: 0, added: [] as string[], outcomes: [] as string[] };
    const remediate = createBatchRemediator({
      accountId: ACCOUNT,
      clock: () => NOW,
      perObject: async (a) => {
        calls.perObject += 1;
        return a.finding;
      },
      collector: {
        add: async (f, t) => {
          calls.added.push(`${f.key}→${t.kmsKeyArn}`);
          return { added: true, recordId: 'r1' };
        },
      },
      onOutcome: (outcome) => calls.outcomes.push(outcome),
    });
    return { calls, remediate };
  }

  test('an UpdateObjectEncryption fix is collected for its job, a copy is fixed per object', async () => {
    const { calls, remediate } = remediator();
    await remediate(audit(facts(), KEY));
    await remediate(audit(facts({ key: 'dsse', mode: 'dsse-kms', kmsKeyArn: KEY }), KEY));
    expect(calls).toEqual({ perObject: 1, added: [`a.txt→${KEY}`], outcomes: ['in-batch-job'] });
  });

  test('a target key of another account: no job, no per-object call; the finding carries the refusal and why', async () => {
    const { calls, remediate } = remediator();
    const finding = await remediate(audit(facts(), OTHER_ACCOUNT_KEY));
    expect(calls).toEqual({ perObject: 0, added: [], outcomes: ['blocked-key-other-account'] });
    expect(finding.remediation).toMatchObject({ action: 'update-encryption', outcome: 'blocked-key-other-account' });
    expect(finding.remediation?.detail).toContain("UpdateObjectEncryption only takes keys of the bucket owner's account");
  });
});
