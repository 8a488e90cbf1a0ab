// The fix lock's take-over on DynamoDB (moto): two reruns that both find a dead owner's lock race
// for it with puts conditional on that owner; exactly one wins and runs the fix, the other sees the
// winner (alive) with its lease end.
import { spawn } from 'node:child_process';
import { expect, test } from 'vitest';
import { FixInProgressElsewhere, idempotentFix } from '../../shared/audit/idempotent-fix.ts';
import { thisProcessOwner, type FixLockOwner } from '../../shared/audit/fix-lock-owner.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import type { RemediationOutcome } from '../../shared/remediation/index.ts';
import type { RemediationTarget } from '../../shared/remediation/fix-plan.ts';

const TABLE = 'fix-locks-idempotency';

async function endedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid!;
}

test('two reruns race for a dead owner\'s lock: one takes it over and fixes, the other is told who holds it until when', async () => {
  const { dynamodb } = createAwsClients();
  await ensureIdempotencyTable(dynamodb, TABLE);
  const identity = { bucket: 'locks', key: `k-${Date.now()}`, versionId: 'v1', etag: '"e1"', size: 10, target: { mode: 'sse-s3' } as RemediationTarget };
  const outcome = { outcome: 'fixed', message: 'fixed', notes: [], before: { mode: 'dsse-kms', bucketKeyEnabled: false } } as unknown as RemediationOutcome;

  // A process of this host took the lock and died mid-fix (its fix never returns).
  const dead: FixLockOwner = { ...thisProcessOwner(), pid: await endedPid(), nonce: 'dead-run' };
  let deadStarted!: () => void;
  const started = new Promise<void>((resolve) => (deadStarted = resolve));
  void idempotentFix(dynamodb, TABLE, { owner: dead }).fixOnce(identity, () => {
    deadStarted();
    return new Promise<RemediationOutcome>(() => undefined);
  });
  await started;

  let fixes = 0;
  const rerun = (nonce: string) =>
    idempotentFix(dynamodb, TABLE, { owner: { ...thisProcessOwner(), nonce } })
      .fixOnce(identity, async () => {
        fixes += 1;
        await new Promise((resolve) => setTimeout(resolve, 500));
        return outcome;
      })
      .then(
        (result) => ({ won: true as const, result }),
        (error: unknown) => ({ won: false as const, error }),
      );
  const results = await Promise.all([rerun('rerun-a'), rerun('rerun-b')]);
  expect(fixes).toBe(1);
  expect(results.filter((r) => r.won)).toHaveLength(1);
  const lost = results.find((r) => !r.won)!;
  expect(lost.error).toBeInstanceOf(FixInProgressElsewhere);
  const holder = (lost.error as FixInProgressElsewhere).holder;
  expect(holder?.owner?.nonce).toMatch(/^rerun-[ab]$/);
  expect(holder?.until).toBeGreaterThan(Date.now());
  expect((lost.error as Error).message).toMatch(new RegExp(`held by pid ${process.pid} on .+ until \\d{4}-\\d\\d-\\d\\dT`));

  // Done: a later run gets the recorded outcome, not a second fix.
  const later = await idempotentFix(dynamodb, TABLE, { owner: { ...thisProcessOwner(), nonce: 'later' } }).fixOnce(identity, async () => {
    fixes += 1;
    return outcome;
  });
  expect(later.outcome).toBe('fixed');
  expect(fixes).toBe(1);
}, 60_000);
