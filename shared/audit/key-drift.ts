// Key drift check: a sweep that audits only rows changed since the last verified report no longer
// re-judges unchanged objects against their key's current state. Should the CloudTrail event of a
// key's change be missed (no rule, delivery lost), an object under a key disabled since would keep
// its "compliant" verdict. So each sweep describes every key that recorded findings depend on (one
// DescribeKey and GetKeyRotationStatus per distinct key, not per object) and, where the key is not
// what the verdicts were judged against, re-evaluates its dependents through the key-event path.
//
// "Not what the verdicts were judged against" is decided two ways, because the recorded key facts
// alone can mislead: a scan that audits one new object under a key records the key's fresh facts
// without re-judging the key's other objects. So a key drifted when its facts differ from the
// recorded ones, or when its state contradicts its dependents' recorded verdicts (a key that cannot
// decrypt under objects not at-risk; a usable key under objects at-risk). A key never recorded (the
// audit worker records no key facts) is checked by the second rule only, and its facts recorded.
import type { KeyLookup } from '../domain/encryption.ts';
import { AT_RISK_STATES } from '../domain/evaluate.ts';
import { parseMessageBody } from '../events/audit-queue-messages.ts';
import type { Counts } from '../findings/store.ts';
import { auditRequests } from './audit-batch.ts';
import { handleKeyEvent, KeyLookupFailedError, type KeyEventDependencies } from './reevaluate-key.ts';

export interface KeyDriftOutcome {
  /** Keys described afresh (those KMS answered, whatever it said). */
  described: number;
  /** Keys whose dependents were re-evaluated, with why. */
  changed: { arn: string; why: string }[];
  /** Keys KMS did not describe this time (throttled, failing): left as recorded, asked again next sweep. */
  unchecked: { arn: string; detail: string }[];
  /** Objects re-evaluated here, and sent to the audit queue to be. */
  reevaluated: number;
  queued: number;
}

const cannotDecrypt = (key: KeyLookup): boolean => key.status === 'not-found' || (key.status === 'described' && AT_RISK_STATES[key.state] !== undefined);

/** Why the key's dependents must be judged again, or undefined when they stand. */
export function keyDrift(fresh: KeyLookup, recorded: KeyLookup | undefined, dependents: Counts | undefined): string | undefined {
  const atRisk = dependents?.verdicts['at-risk'] ?? 0;
  const judgedUsable = (dependents?.verdicts.compliant ?? 0) + (dependents?.verdicts.noncompliant ?? 0) + (dependents?.verdicts.exempt ?? 0);
  if (cannotDecrypt(fresh) && judgedUsable > 0) return `${fresh.status === 'described' ? fresh.state : fresh.status}, but ${judgedUsable} dependents are not at-risk`;
  if (!cannotDecrypt(fresh) && fresh.status === 'described' && atRisk > 0) return `${fresh.state}, but ${atRisk} dependents are at-risk`;
  // Never recorded (the worker records no key facts): the state was checked against the verdicts above.
  if (!recorded) return undefined;
  if (recorded.status !== fresh.status) return `${recorded.status} → ${fresh.status}`;
  if (recorded.status !== 'described' || fresh.status !== 'described') return undefined;
  const fields = ['state', 'manager', 'rotationEnabled', 'deletionDate'] as const;
  const moved = fields.filter((field) => recorded[field] !== fresh[field]);
  return moved.length ? moved.map((field) => `${field} ${String(recorded[field])} → ${String(fresh[field])}`).join(', ') : undefined;
}

/**
 * Describes every key recorded findings depend on and re-evaluates the dependents of those that
 * drifted. A key KMS does not describe now is never a verdict: it is named in `unchecked`.
 */
export async function checkKeyDrift(deps: KeyEventDependencies): Promise<KeyDriftOutcome> {
  const summary = await deps.store.summary();
  const outcome: KeyDriftOutcome = { described: 0, changed: [], unchecked: [], reevaluated: 0, queued: 0 };
  for (const [arn, dependents] of Object.entries(summary.kmsKeys)) {
    if (dependents.objects <= 0) continue;
    deps.keys.forget(arn);
    const fresh = await deps.keys.lookup(arn);
    if (fresh.status === 'error') {
      outcome.unchecked.push({ arn, detail: fresh.detail });
      continue;
    }
    outcome.described += 1;
    const recorded = summary.keyFacts[arn];
    const why = keyDrift(fresh, recorded, dependents);
    if (!why) {
      // The facts the next check compares with. Not re-evaluating every dependent of every key the
      // first time: a state that cannot decrypt was checked against their verdicts already.
      if (!recorded) await deps.store.recordKeys([fresh], deps.clock?.() ?? new Date());
      continue;
    }
    try {
      const event = await handleKeyEvent(deps, 'SweepKeyCheck', arn);
      outcome.changed.push({ arn, why });
      outcome.reevaluated += event.objects;
      outcome.queued += event.queued.objects;
    } catch (error) {
      // Described a moment ago, failing now: as unchecked, and asked again next sweep.
      if (!(error instanceof KeyLookupFailedError)) throw error;
      outcome.unchecked.push({ arn, detail: error.message });
    }
  }
  return outcome;
}

/** The line a run prints (CLI) and logs (sweep). */
export function keyDriftLine(outcome: KeyDriftOutcome): string {
  const unchecked = outcome.unchecked.length
    ? ` ${outcome.unchecked.length} keys not described (left as recorded, asked again next sweep): ${outcome.unchecked.map((u) => `${u.arn} (${u.detail})`).join('; ')}.`
    : '';
  const queued = outcome.queued ? `, ${outcome.queued} queued` : '';
  return `Key check: ${outcome.described} keys described, ${outcome.changed.length} changed → ${outcome.reevaluated} objects re-evaluated${queued}.${unchecked}`;
}

/**
 * For a run with no audit queue (the CLI): the pages handleKeyEvent would queue are audited here,
 * as the worker would audit them. Objects a retry could change are counted, never recorded. Objects
 * of another account than `ownAccount` are counted too and left alone: the caller holds none of their
 * roles, and a HeadObject with its own credentials would record "access denied" over their finding.
 */
export function auditInProcess(
  deps: Omit<KeyEventDependencies, 'queue'>,
  ownAccount?: string,
): { queue: KeyEventDependencies['queue']; tally: { audited: number; transient: number; otherAccounts: number } } {
  const tally = { audited: 0, transient: 0, otherAccounts: 0 };
  const queue = {
    async sendToAuditQueue(bodies: string[]): Promise<void> {
      for (const body of bodies) {
        const parsed = parseMessageBody(body);
        if (parsed.kind !== 'audit') throw new Error(`not an audit message: ${body.slice(0, 200)}`);
        const ours = parsed.requests.filter((r) => ownAccount === undefined || r.account === undefined || r.account === ownAccount);
        tally.otherAccounts += parsed.requests.length - ours.length;
        if (ours.length === 0) continue;
        const result = await auditRequests(deps, ours);
        tally.audited += result.recorded.length;
        tally.transient += result.transient.length;
      }
    },
  };
  return { queue, tally };
}
