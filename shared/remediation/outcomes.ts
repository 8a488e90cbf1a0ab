// The words a remediation outcome is made of. Like the verdict reason codes, the same strings appear
// in the code, the findings history, the CLI output and the README.

export const REMEDIATION_ACTIONS = ['update-encryption', 'copy', 'multipart-copy', 'none', 'blocked'] as const;
export type RemediationAction = (typeof REMEDIATION_ACTIONS)[number];

/** Why no fix can be made without a person: the planner's (or S3's) answer. */
export const BLOCKED_OUTCOMES = [
  'blocked-sse-c',
  'blocked-object-lock-compliance',
  'blocked-archived',
  'blocked-access-denied',
  // a copy would be the only fix and the version is (or may be) noncurrent: copying it in place
  // would make old content current
  'blocked-noncurrent-version',
  // the policy's target key is not in the bucket owner's account: UpdateObjectEncryption (and so a
  // Batch job) cannot use it
  'blocked-key-other-account',
] as const;
export type BlockedOutcome = (typeof BLOCKED_OUTCOMES)[number];

export const REMEDIATION_OUTCOMES = [
  // the post-fix HeadObject shows the target
  'fixed',
  // the object already has the target encryption: nothing to do
  'already-at-target',
  // dry run: the plan was made, nothing was sent
  'planned',
  ...BLOCKED_OUTCOMES,
  // the object changed (or a newer version was written) between the audit and the fix: nothing was
  // written; the newer object is audited on its own event
  'skipped-object-changed',
  // the object was deleted between the audit and the fix
  'skipped-object-vanished',
  // another process holds this object's fix (its lease has not run out): tried again later, never twice
  'skipped-being-fixed-elsewhere',
  // the fix call succeeded but the post-fix HeadObject does not show the target: never claimed as fixed
  'unverified',
  // any other error after the SDK's retries; the caller decides whether to retry (the queue)
  'failed',
  // the fix is a task of an S3 Batch Operations job (its intent says which); `sseguard jobs` folds
  // the job's outcome into the history
  'in-batch-job',
  // the object's S3 Batch Operations task failed; the history entry carries S3's error code
  'batch-task-failed',
] as const;
export type RemediationOutcomeCode = (typeof REMEDIATION_OUTCOMES)[number];

export const isBlockedOutcome = (code: string): code is BlockedOutcome =>
  (BLOCKED_OUTCOMES as readonly string[]).includes(code);
