// The rule that decides whether a rerun may take over a fix lock at once: only from a process of
// its own host that no longer exists (or whose pid a newer process now holds).
import { spawn } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { ownerState, processProbe, startTimeFromStat, thisProcessOwner, type FixLockOwner, type ProcessProbe } from '../../shared/audit/fix-lock-owner.ts';

const self: FixLockOwner = { host: 'ci-1', kind: 'process', pid: 100, nonce: 'me', boot: 'boot-a', started: '5000' };
const probe = (processes: Record<number, string | undefined>, unknown: number[] = []): ProcessProbe => ({
  exists: (pid) => (unknown.includes(pid) ? 'unknown' : pid in processes ? 'alive' : 'gone'),
  startedAt: (pid) => processes[pid],
});
const other = (fields: Partial<FixLockOwner>): FixLockOwner => ({ host: 'ci-1', kind: 'process', pid: 200, nonce: 'dead-run', boot: 'boot-a', started: '4000', ...fields });

describe('whose fix lock may be taken over at once', () => {
  test('a process of this host that no longer exists (ESRCH) is gone', () => {
    expect(ownerState(other({}), self, probe({}))).toBe('gone');
  });
  test('a live process of this host with the recorded start time is alive: its lease stands', () => {
    expect(ownerState(other({}), self, probe({ 200: '4000' }))).toBe('alive');
  });
  test('a reused pid (a live process with another start time) is not mistaken for the owner: gone', () => {
    expect(ownerState(other({}), self, probe({ 200: '9000' }))).toBe('gone');
  });
  test('a live pid whose start time cannot be read is taken as the owner (alive)', () => {
    expect(ownerState(other({}), self, probe({ 200: undefined }))).toBe('alive');
    expect(ownerState(other({ started: undefined }), self, probe({ 200: '9000' }))).toBe('alive');
  });
  test('an owner on another host, or a Lambda, cannot be checked: unknown, the lease stands', () => {
    expect(ownerState(other({ host: 'ci-2' }), self, probe({}))).toBe('unknown');
    expect(ownerState(other({ kind: 'lambda', host: 'sseguard-worker' }), self, probe({}))).toBe('unknown');
    // A Lambda never takes over, even from a dead-looking pid of its own sandbox's name.
    expect(ownerState(other({}), { ...self, kind: 'lambda' }, probe({}))).toBe('unknown');
  });
  test('a record without an owner (written before owners were recorded) is unknown', () => {
    expect(ownerState(undefined, self, probe({}))).toBe('unknown');
  });
  test('the same host after a restart (another boot id): gone, even if the pid exists again', () => {
    expect(ownerState(other({ boot: 'boot-b' }), self, probe({ 200: '4000' }))).toBe('gone');
  });
  test('this very process (same nonce) is alive, whatever the probe says', () => {
    expect(ownerState({ ...self }, self, probe({}))).toBe('alive');
  });
  test('a probe that cannot tell (not ESRCH, not EPERM) leaves the lease alone', () => {
    expect(ownerState(other({}), self, probe({}, [200]))).toBe('unknown');
  });
});

describe('the real probe', () => {
  test('reads the start time after a command name with spaces and parentheses', () => {
    const stat = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 10 2 0 0 20 0 11 0 987654 1000000 500';
    expect(startTimeFromStat(stat)).toBe('987654');
  });
  test('this process exists and has a start time; a process that ended answers gone', async () => {
    expect(processProbe.exists(process.pid)).toBe('alive');
    expect(processProbe.startedAt(process.pid)).toBe(thisProcessOwner().started);
    expect(thisProcessOwner().started).toMatch(/^\d+$/);
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((resolve) => child.on('close', resolve));
    expect(processProbe.exists(pid)).toBe('gone');
    expect(ownerState({ ...thisProcessOwner(), pid, nonce: 'ended' }, thisProcessOwner(), processProbe)).toBe('gone');
  });
});
