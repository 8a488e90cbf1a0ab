// What each outbox item says as an EventBridge event: source "sseguard", one detail type per kind of
// change, a detail that follows schemas/events/<detail type>.v1.json. Pure: eventbridge.ts sends them.
import type { OutboxItem } from '../findings/outbox.ts';
import type { DeliveryContext } from './outbox-delivery.ts';

export const EVENT_SOURCE = 'sseguard';
export const EVENT_SCHEMA_VERSION = '1';

export const DETAIL_TYPES = {
  object: 'Object Finding Changed',
  remediation: 'Remediation Applied',
  key: 'KMS Key At Risk',
  posture: 'Bucket Posture Changed',
  run: 'Run Completed',
} as const satisfies Record<OutboxItem['kind'], string>;
/** A key back from at risk (enabled again, deletion cancelled): its own detail type, so rules that page on at-risk stay quiet. */
export const KEY_RECOVERED_DETAIL_TYPE = 'KMS Key Recovered';
/** The key states in which what is encrypted under a key cannot be read. */
export const AT_RISK_KEY_STATES: ReadonlySet<string> = new Set(['Disabled', 'PendingDeletion', 'PendingReplicaDeletion', 'Unavailable']);

export interface SseguardEvent {
  detailType: (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES] | typeof KEY_RECOVERED_DETAIL_TYPE;
  resources: string[];
  detail: Record<string, unknown>;
}

const objectArn = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;

export async function eventOf(item: OutboxItem, context: DeliveryContext): Promise<SseguardEvent> {
  const base = { schemaVersion: EVENT_SCHEMA_VERSION, eventId: item.id, at: item.at };
  switch (item.kind) {
    case 'object': {
      const { bucket, key, entry, size, account, region } = item.change;
      return {
        detailType: DETAIL_TYPES.object,
        resources: [objectArn(bucket, key)],
        detail: {
          ...base,
          bucket,
          key,
          ...(entry.versionId ? { versionId: entry.versionId } : {}),
          ...(item.change.noncurrent ? { noncurrent: true } : {}),
          verdict: entry.verdict,
          ...(entry.previousVerdict ? { previousVerdict: entry.previousVerdict } : {}),
          change: entry.removed ? 'removed' : entry.previousVerdict === undefined ? 'new' : entry.previousVerdict === entry.verdict ? 'changed' : 'verdict-changed',
          reasons: entry.reasons.map((r) => ({ code: r.code, message: r.message })),
          ...(entry.mode ? { mode: entry.mode } : {}),
          ...(entry.kmsKeyArn ? { kmsKeyArn: entry.kmsKeyArn } : {}),
          ...(size === undefined ? {} : { size }),
          ...(account ? { account } : {}),
          ...(region ? { region } : {}),
        },
      };
    }
    case 'remediation': {
      const { bucket, key, entry } = item.change;
      const record = entry.remediation!;
      return {
        detailType: DETAIL_TYPES.remediation,
        resources: [objectArn(bucket, key)],
        detail: {
          ...base,
          bucket,
          key,
          action: record.action,
          outcome: record.outcome,
          fixedAt: record.at,
          ...(record.before ? { before: record.before } : {}),
          ...(record.after ? { after: record.after } : {}),
        },
      };
    }
    case 'key': {
      const exposure = await context.keyExposure(item.key.keyArn);
      return {
        detailType: AT_RISK_KEY_STATES.has(item.key.keyState) ? DETAIL_TYPES.key : KEY_RECOVERED_DETAIL_TYPE,
        resources: [item.key.keyArn],
        detail: {
          ...base,
          keyArn: item.key.keyArn,
          keyState: item.key.keyState,
          ...(item.key.previousState ? { previousState: item.key.previousState } : {}),
          ...(item.key.deletionDate ? { deletionDate: item.key.deletionDate } : {}),
          objects: exposure.objects,
          bytes: exposure.bytes,
        },
      };
    }
    case 'posture':
      return {
        detailType: DETAIL_TYPES.posture,
        resources: [`arn:aws:s3:::${item.posture.bucket}`],
        detail: { ...base, ...item.posture },
      };
    case 'run': {
      const { run } = item;
      return {
        detailType: DETAIL_TYPES.run,
        resources: [`arn:aws:s3:::${run.bucket}`],
        detail: { ...base, ...run, coverage: run.notAudited === 0 ? 'complete' : 'partial' },
      };
    }
  }
}
