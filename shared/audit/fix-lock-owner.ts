// Who holds a fix lock, and whether that holder can still be running. A fix lock (the idempotency
// record of a fix in progress) names its owner: host, boot, process id, the process's start time and
// a per-process nonce. A rerun on the same host may take over at once the lock of a process that no
// longer exists; every other lock keeps its lease.
//
// | the recorded owner                                   | is       | because                                  |
// |------------------------------------------------------|----------|------------------------------------------|
// | none recorded (an older record)                      | unknown  | nothing to check: wait for the lease     |
// | a Lambda, or a process on another host               | unknown  | its process cannot be checked from here  |
// | this very process (same nonce)                       | alive    | a fix of this run                        |
// | same host, another boot                              | gone     | the machine restarted since              |
// | same host, pid answers ESRCH                         | gone     | no such process                          |
// | same host, pid alive with another start time         | gone     | the pid was reused by a newer process    |
// | same host, pid alive (same start, or start unknown)  | alive    | it may be fixing the object right now    |
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface FixLockOwner {
  /** os.hostname() of the process, or the Lambda function's name for a Lambda. */
  host: string;
  /** 'process' on a machine a rerun can share; 'lambda' is never checked (no shared pid space). */
  kind: 'process' | 'lambda';
  pid: number;
  /** Unique per process: what a conditional take-over compares. */
  nonce: string;
  /** Linux boot id: pids start over after a restart. */
  boot?: string;
  /** The process's start time (clock ticks since boot, /proc/<pid>/stat field 22): a reused pid has another. */
  started?: string;
}

export type OwnerState = 'alive' | 'gone' | 'unknown';

/** What can be learned about a process on this host. */
export interface ProcessProbe {
  /** 'gone' when the pid answers ESRCH; 'alive' when it exists (EPERM included); 'unknown' otherwise. */
  exists(pid: number): 'alive' | 'gone' | 'unknown';
  /** The start time of the process now holding `pid`, when the platform tells it. */
  startedAt(pid: number): string | undefined;
}

/** The liveness rule (the table above), pure given the probe. */
export function ownerState(owner: FixLockOwner | undefined, self: FixLockOwner, probe: ProcessProbe): OwnerState {
  if (!owner) return 'unknown';
  if (owner.nonce === self.nonce) return 'alive';
  if (owner.kind !== 'process' || self.kind !== 'process' || owner.host !== self.host) return 'unknown';
  if (owner.boot && self.boot && owner.boot !== self.boot) return 'gone';
  const exists = probe.exists(owner.pid);
  if (exists !== 'alive') return exists;
  const started = probe.startedAt(owner.pid);
  if (owner.started && started && owner.started !== started) return 'gone';
  return 'alive';
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses. */
export function startTimeFromStat(stat: string): string | undefined {
  const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // afterName[0] is field 3 (state): field 22 is at index 19.
  return afterName[19];
}

export const processProbe: ProcessProbe = {
  exists(pid) {
    try {
      process.kill(pid, 0);
      return 'alive';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ESRCH') return 'gone';
      if (code === 'EPERM') return 'alive';
      return 'unknown';
    }
  },
  startedAt(pid) {
    const stat = readOrUndefined(`/proc/${pid}/stat`);
    return stat ? startTimeFromStat(stat) : undefined;
  },
};

let current: FixLockOwner | undefined;

/** This process as a lock owner (made once per process). */
export function thisProcessOwner(env: NodeJS.ProcessEnv = process.env): FixLockOwner {
  if (current) return current;
  const lambda = env.AWS_LAMBDA_FUNCTION_NAME;
  const boot = readOrUndefined('/proc/sys/kernel/random/boot_id')?.trim();
  const started = processProbe.startedAt(process.pid);
  current = {
    host: lambda ?? hostname(),
    kind: lambda ? 'lambda' : 'process',
    pid: process.pid,
    nonce: randomUUID(),
    ...(boot ? { boot } : {}),
    ...(started ? { started } : {}),
  };
  return current;
}

/** "pid 123 on host-a" for messages. */
export const describeOwner = (owner: FixLockOwner | undefined): string =>
  owner ? (owner.kind === 'lambda' ? `Lambda ${owner.host}` : `pid ${owner.pid} on ${owner.host}`) : 'an owner not recorded';
