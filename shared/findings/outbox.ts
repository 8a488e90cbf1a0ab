// The outbox: one item per change of evidence, written in the same DynamoDB transaction as the change
// itself, so that a crash between the table write and the push to Security Hub or EventBridge delays
// a delivery and never loses one. The delivery step (shared/delivery/) reads these items, sends them
// and deletes each once every destination it is for has taken it. Unchanged re-audits write no history and so
// no outbox item: a re-sweep sends nothing.
//
//   pk                 sk                      what
//   OUTBOX#<shard>     <at>#<id>               one change waiting for delivery (shard: by object)
//   OUTBOX#LEASE       LEASE                   the deliverer draining now (outbox-lease.ts)
//   OUTBOX#STATUS      <destination>           each destination's last run and push (outbox-lease.ts)
//
// The item's id is derived from the history item it stands beside (or the key and state it reports):
// a re-planned transaction writes the same id, and the id is the dedup key consumers see.
import { createHash } from 'node:crypto';
import type { HistoryEntry } from './store.ts';
import type { TransactItem } from './dynamodb-writes.ts';

export const OUTBOX_SHARDS = 4;
export const outboxPk = (shard: number): string => `OUTBOX#${shard}`;
export const OUTBOX_LEASE_KEY = { pk: 'OUTBOX#LEASE', sk: 'LEASE' } as const;
export const OUTBOX_STATUS_PK = 'OUTBOX#STATUS';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const shardOf = (text: string): number => parseInt(sha256(text).slice(0, 8), 16) % OUTBOX_SHARDS;

/** Where changes go (shared/delivery/): each outbox item names the ones it is for. */
export type OutboxDestination = 'eventbridge' | 'securityhub';

/** The destinations a writer's settings turn on (stage settings, or the CLI's flags): what its items are for. */
export function outboxDestinations(integrations: { eventBus?: string; securityHub: boolean } | undefined): OutboxDestination[] {
  return [...(integrations?.eventBus ? (['eventbridge'] as const) : []), ...(integrations?.securityHub ? (['securityhub'] as const) : [])];
}

/** What changed: an object's finding, a fix made, a KMS key newly at risk, a bucket's posture, a run's end. */
export type OutboxKind = 'object' | 'remediation' | 'key' | 'posture' | 'run';

export interface ObjectChange {
  bucket: string;
  key: string;
  entry: HistoryEntry;
  /** Object size in bytes (absent when the object is gone). */
  size?: number;
  /** The account and Region the finding belongs to, when the finding names them. */
  account?: string;
  region?: string;
  /** A noncurrent version (its own finding: the Security Hub Id names the version). */
  noncurrent?: boolean;
}

/** A key newly at risk, or one back from it (keyState Enabled, previousState the at-risk one). */
export interface KeyAtRisk {
  keyArn: string;
  keyState: string;
  /** ISO date the key is scheduled to be deleted on, for PendingDeletion. */
  deletionDate?: string;
  previousState?: string;
}

export interface RunSummary {
  runId: string;
  bucket: string;
  prefix: string;
  startedAt: string;
  finishedAt: string;
  objects: number;
  bytes: number;
  notAudited: number;
  verdicts: Record<string, number>;
}

export interface PostureChange {
  bucket: string;
  verdict: string;
  previousVerdict?: string;
  reasons: { code: string; message: string }[];
}

export type OutboxPayload =
  | { kind: 'object'; change: ObjectChange }
  | { kind: 'remediation'; change: ObjectChange }
  | { kind: 'key'; key: KeyAtRisk }
  | { kind: 'posture'; posture: PostureChange }
  | { kind: 'run'; run: RunSummary };

export type OutboxItem = OutboxPayload & {
  /** Stable per change: the EventBridge dedup key, and the outbox item's identity. */
  id: string;
  at: string;
  /**
   * The destinations this item is for, fixed when it is written (the writer's settings): a deliverer
   * sends it only to those of them it has, and it is removed only when every one of them took it.
   * Absent on an item written without them: it is for whichever destinations its deliverer has.
   */
  destinations?: string[];
  /** Destinations that have taken this item already (a DynamoDB string set, added to one by one). */
  delivered?: string[];
};

/** An item's table key. */
export const outboxKey = (item: Pick<OutboxItem, 'id' | 'at'>) => ({ pk: outboxPk(shardOf(item.id)), sk: `${item.at}#${item.id}` });

/** The outbox item for one history item (its table sort key makes the id unique and stable). */
export function objectOutboxItem(kind: 'object' | 'remediation', change: ObjectChange, historySk: string): OutboxItem {
  return { kind, change, id: sha256(`${kind}|${change.bucket}/${change.key}|${historySk}`), at: change.entry.auditedAt };
}

export function keyOutboxItem(key: KeyAtRisk, at: string): OutboxItem {
  return { kind: 'key', key, id: sha256(`key|${key.keyArn}|${key.keyState}|${key.deletionDate ?? ''}|${at}`), at };
}

export function runOutboxItem(run: RunSummary): OutboxItem {
  return { kind: 'run', run, id: sha256(`run|${run.runId}`), at: run.finishedAt };
}

/** `revision` names the posture history item the change stands beside. */
export function postureOutboxItem(posture: PostureChange, revision: string, at: string): OutboxItem {
  return { kind: 'posture', posture, id: sha256(`posture|${posture.bucket}|${revision}`), at };
}

/** The outbox items a history entry leads to: its change, and a fix made if it carries one. */
export function outboxItemsForHistory(change: ObjectChange, historySk: string, fixOnly: boolean): OutboxItem[] {
  const fixed = change.entry.remediation?.outcome === 'fixed';
  if (fixOnly) return fixed ? [objectOutboxItem('remediation', change, historySk)] : [];
  // A new object that passes is no news: a first sweep of a compliant bucket sends nothing.
  const { entry } = change;
  const quietNew = entry.previousVerdict === undefined && !entry.removed && (entry.verdict === 'compliant' || entry.verdict === 'exempt');
  return [...(quietNew ? [] : [objectOutboxItem('object', change, historySk)]), ...(fixed ? [objectOutboxItem('remediation', change, historySk)] : [])];
}

/** The conditional put of an outbox item, for these destinations, inside the change's transaction (written once). */
export function outboxPut(tableName: string, item: OutboxItem, destinations: readonly OutboxDestination[]): TransactItem {
  return { Put: { TableName: tableName, Item: { ...outboxKey(item), ...item, destinations: [...destinations] }, ConditionExpression: 'attribute_not_exists(pk)' } };
}
