// KMS key-state changes, as EventBridge delivers CloudTrail's record of the API call. Only calls
// that change whether a key can decrypt matter here.
import { z } from 'zod';

export const KEY_STATE_CALLS = ['DisableKey', 'EnableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion'] as const;
/** A CloudTrail call, or the sweep's key check (shared/audit/key-drift.ts), which no event can name. */
export type KeyStateCall = (typeof KEY_STATE_CALLS)[number] | 'SweepKeyCheck';

const cloudTrailKmsEvent = z.object({
  source: z.literal('aws.kms'),
  'detail-type': z.literal('AWS API Call via CloudTrail'),
  detail: z.object({
    eventSource: z.literal('kms.amazonaws.com'),
    eventName: z.string(),
    requestParameters: z.object({ keyId: z.string().min(1) }).nullish(),
    resources: z.array(z.object({ ARN: z.string(), type: z.string().optional() })).optional(),
    errorCode: z.string().optional(),
  }),
});

export type KeyEvent =
  | { kind: 'key-state'; call: KeyStateCall; keyRef: string }
  | { kind: 'ignore'; reason: string }
  | { kind: 'invalid'; reason: string };

export function parseKeyEvent(event: unknown): KeyEvent {
  const parsed = cloudTrailKmsEvent.safeParse(event);
  if (!parsed.success) {
    return { kind: 'invalid', reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ') };
  }
  const { eventName, errorCode, requestParameters, resources } = parsed.data.detail;
  if (!(KEY_STATE_CALLS as readonly string[]).includes(eventName)) return { kind: 'ignore', reason: `${eventName} does not change a key's state` };
  // CloudTrail records failed calls too; a refused DisableKey changed nothing.
  if (errorCode) return { kind: 'ignore', reason: `${eventName} failed (${errorCode})` };
  // CloudTrail names the key's ARN in resources; requestParameters has what the caller passed.
  const keyRef = resources?.find((r) => r.ARN.includes(':key/'))?.ARN ?? requestParameters?.keyId;
  if (!keyRef) return { kind: 'invalid', reason: `${eventName} event names no key` };
  return { kind: 'key-state', call: eventName as (typeof KEY_STATE_CALLS)[number], keyRef };
}
