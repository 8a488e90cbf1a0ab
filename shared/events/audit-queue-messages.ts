// What the audit queue carries, and how its messages become audit requests. Four shapes arrive
// (and the inventory tier's file and reconcile messages, parsed here, audited by inventoryScan):
// S3 event notifications (possibly wrapped by SNS), EventBridge "Object Created"/"Object Deleted"
// events, the sweep's own pages of keys, and S3's s3:TestEvent. A removal is audited like a
// creation, without its version id: what is there now is recorded, or the record is removed.
// Validated with zod on the fields the worker uses; anything else is rejected with a reason so that
// the worker can dead-letter it. Envelopes are Powertools parser schemas where they fit:
//   SNS in SQS     SnsSqsNotificationSchema
//   EventBridge    EventBridgeSchema, with sseguard's `detail`: the library's S3 detail schema takes
//                  `source-ip-address` as IPv4 only, so an upload over IPv6 would be dead-lettered
//   S3 records     sseguard's own: the library's S3RecordSchema takes sourceIPAddress as IPv4 (or
//                  s3.amazonaws.com) only and requires fields the worker never reads
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { SnsSqsNotificationSchema } from '@aws-lambda-powertools/parser/schemas/sns';
import { z } from 'zod';
import type { SweepPageRef } from '../findings/sweep-page-count.ts';
import {
  INVENTORY_DIFF_MESSAGE_KIND,
  INVENTORY_FILE_MESSAGE_KIND,
  INVENTORY_RECONCILE_MESSAGE_KIND,
  InventoryDiffMessageSchema,
  InventoryFileMessageSchema,
  InventoryReconcileMessageSchema,
  type InventoryDiffMessage,
  type InventoryFileMessage,
  type InventoryReconcileMessage,
} from '../inventory/messages.ts';
import {
  ORG_ACCOUNT_MESSAGE_KIND,
  ORG_UNIT_MESSAGE_KIND,
  OrgAccountMessageSchema,
  OrgUnitMessageSchema,
  type OrgAccountMessage,
  type OrgUnitMessage,
} from './org-messages.ts';

export interface AuditRequest {
  /** The bucket's account (an EventBridge event's `account`, a sweep or key message's): audited through its role. */
  account?: string;
  /** The bucket's Region. */
  region?: string;
  bucket: string;
  key: string;
  versionId?: string;
  /** S3's per-key event order; a request older than what is recorded does not overwrite it. */
  sequencer?: string;
  size?: number;
  etag?: string;
  source: 's3-notification' | 'eventbridge' | 'sweep' | 'key-event';
  /** key-event: the KMS key whose state changed; the object is re-evaluated from its recorded facts. */
  changedKeyArn?: string;
  /** From a sweep of every version: audit exactly this version (false: a noncurrent one). */
  isLatest?: boolean;
  exactVersion?: boolean;
  /** A delete marker listed by a sweep of every version; when latest, the object is gone. */
  deleteMarker?: boolean;
  /**
   * The version S3 says was permanently deleted (ObjectRemoved:Delete, EventBridge "Object Deleted"
   * of deletion-type "Permanently Deleted"): when it is the recorded one, what is current now replaces it.
   */
  removedVersionId?: string;
}

export type ParsedMessage =
  | { kind: 'audit'; requests: AuditRequest[]; sweep?: SweepPageRef }
  /** One data file of an inventory report (shared/inventory/messages.ts): audited by inventoryScan. */
  | { kind: 'inventory-file'; message: InventoryFileMessage }
  /** Every file of the report is done: remove what it proves gone. */
  | { kind: 'inventory-reconcile'; message: InventoryReconcileMessage }
  /** A report swept from its Athena diff: start, poll, or one slice of the result. */
  | { kind: 'inventory-diff'; message: InventoryDiffMessage }
  /** The Organization sweep (shared/sweep/org-messages.ts): one account to list, or one step of an account × Region. */
  | { kind: 'org-account'; message: OrgAccountMessage }
  | { kind: 'org-unit'; message: OrgUnitMessage }
  | { kind: 'ignore'; reason: string }
  | { kind: 'invalid'; reason: string };

const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not an S3 bucket name');
const objectKey = z.string().min(1, 'empty object key');
const sequencer = z.string().regex(/^[0-9A-Fa-f]+$/, 'not a hexadecimal sequencer');
// S3 says "null" for the version of an object written while versioning was off.
const versionId = z.string().min(1).transform((v) => (v === 'null' ? undefined : v));

const s3NotificationRecord = z.object({
  eventSource: z.literal('aws:s3'),
  // The bucket's Region. Checked loosely: a record whose Region is not a Region name is still audited.
  awsRegion: z.string().optional(),
  eventName: z.string(),
  s3: z.object({
    bucket: z.object({ name: bucketName }),
    object: z.object({
      key: objectKey,
      size: z.number().int().nonnegative().optional(),
      eTag: z.string().optional(),
      versionId: versionId.optional(),
      sequencer: sequencer.optional(),
    }),
  }),
});
const s3Notification = z.object({ Records: z.array(s3NotificationRecord).min(1) });
const s3TestEvent = z.object({ Service: z.literal('Amazon S3'), Event: z.literal('s3:TestEvent') });
const snsEnvelope = SnsSqsNotificationSchema;
const eventBridgeS3Event = EventBridgeSchema.extend({
  source: z.literal('aws.s3'),
  detail: z.object({
    bucket: z.object({ name: bucketName }),
    object: z.object({
      key: objectKey,
      size: z.number().int().nonnegative().optional(),
      etag: z.string().optional(),
      'version-id': versionId.optional(),
      sequencer: sequencer.optional(),
    }),
    'deletion-type': z.string().optional(),
  }),
});

export const SWEEP_MESSAGE_KIND = 'sseguard.sweep';
export const MAX_KEYS_PER_SWEEP_MESSAGE = 100;
const accountId = z.string().regex(/^\d{12}$/, 'not a 12-digit AWS account id');
const regionName = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'not a Region name');

export const sweepMessage = z.object({
  kind: z.literal(SWEEP_MESSAGE_KIND),
  account: accountId.optional(),
  region: regionName.optional(),
  runId: z.string().min(1),
  page: z.number().int().nonnegative(),
  bucket: bucketName,
  objects: z
    .array(
      z.object({
        key: objectKey,
        size: z.number().int().nonnegative(),
        etag: z.string().optional(),
        versionId: versionId.optional(),
        // A sweep of every version (SSEGUARD_SWEEP_ALL_VERSIONS): audit that version, not the current one.
        isLatest: z.boolean().optional(),
        deleteMarker: z.boolean().optional(),
      }),
    )
    .min(1)
    .max(MAX_KEYS_PER_SWEEP_MESSAGE),
});
export type SweepMessage = z.input<typeof sweepMessage>;

// A fifth shape: a page of objects under a KMS key whose state changed (key events fan a large
// blast radius out through the queue; shared/audit/reevaluate-key.ts).
export const KEY_REEVALUATION_MESSAGE_KIND = 'sseguard.key-reevaluation';
/** Objects per key-reevaluation message: ≈ 110 KB at most (S3 keys are up to 1 KB), under SQS's 256 KB. */
export const MAX_OBJECTS_PER_KEY_MESSAGE = 100;
export const keyReevaluationMessage = z.object({
  kind: z.literal(KEY_REEVALUATION_MESSAGE_KIND),
  account: accountId.optional(),
  region: regionName.optional(),
  keyArn: z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'not a KMS key ARN'),
  bucket: bucketName,
  objects: z
    .array(z.object({ key: objectKey, size: z.number().int().nonnegative() }))
    .min(1)
    .max(MAX_OBJECTS_PER_KEY_MESSAGE),
});
export type KeyReevaluationMessage = z.input<typeof keyReevaluationMessage>;

/** S3 notifications URL-encode keys as HTML forms do: "+" for a space, %XX for the rest. */
export function decodeNotificationKey(key: string): string {
  return decodeURIComponent(key.replaceAll('+', '%20'));
}

const describeIssues = (error: z.ZodError) =>
  error.issues.map((issue) => `${issue.path.join('.') || '(message)'}: ${issue.message}`).join('; ');

function fromDocument(document: unknown): ParsedMessage {
  if (s3TestEvent.safeParse(document).success) return { kind: 'ignore', reason: 's3:TestEvent' };

  if (document && typeof document === 'object' && (document as { Type?: unknown }).Type === 'Notification') {
    const sns = snsEnvelope.safeParse(document);
    if (!sns.success) return { kind: 'invalid', reason: `SNS notification: ${describeIssues(sns.error)}` };
    return parseMessageBody(sns.data.Message);
  }

  if (document && typeof document === 'object' && 'Records' in document) {
    const parsed = s3Notification.safeParse(document);
    if (!parsed.success) return { kind: 'invalid', reason: `S3 event notification: ${describeIssues(parsed.error)}` };
    const relevant = parsed.data.Records.filter((r) => r.eventName.startsWith('ObjectCreated:') || r.eventName.startsWith('ObjectRemoved:'));
    if (relevant.length === 0) {
      return { kind: 'ignore', reason: `not an ObjectCreated or ObjectRemoved event (${parsed.data.Records.map((r) => r.eventName).join(', ')})` };
    }
    const requests: AuditRequest[] = [];
    for (const { eventName, s3, awsRegion } of relevant) {
      const removal = eventName.startsWith('ObjectRemoved:');
      let key: string;
      try {
        key = decodeNotificationKey(s3.object.key);
      } catch {
        return { kind: 'invalid', reason: `S3 event notification: key is not URL-encoded: ${s3.object.key}` };
      }
      requests.push({
        bucket: s3.bucket.name,
        key,
        source: 's3-notification',
        // A notification goes to the bucket owner's own queue; the Region is the bucket's.
        ...(awsRegion && regionName.safeParse(awsRegion).success ? { region: awsRegion } : {}),
        // After a removal the question is what is there now: the current object, not the version removed.
        ...(s3.object.versionId && !removal ? { versionId: s3.object.versionId } : {}),
        // A delete marker's event names the marker's version: only a permanent delete removes one.
        ...(s3.object.versionId && eventName === 'ObjectRemoved:Delete' ? { removedVersionId: s3.object.versionId } : {}),
        ...(s3.object.sequencer ? { sequencer: s3.object.sequencer } : {}),
        ...(s3.object.size === undefined ? {} : { size: s3.object.size }),
        ...(s3.object.eTag ? { etag: s3.object.eTag } : {}),
      });
    }
    return { kind: 'audit', requests };
  }

  if (document && typeof document === 'object' && (document as { source?: unknown }).source === 'aws.s3') {
    const parsed = eventBridgeS3Event.safeParse(document);
    if (!parsed.success) return { kind: 'invalid', reason: `EventBridge S3 event: ${describeIssues(parsed.error)}` };
    const { detail, account, region } = parsed.data;
    const detailType = parsed.data['detail-type'];
    if (detailType !== 'Object Created' && detailType !== 'Object Deleted') {
      return { kind: 'ignore', reason: `not an Object Created or Object Deleted event (${detailType})` };
    }
    const removal = detailType === 'Object Deleted';
    // EventBridge carries the key as it is, not URL-encoded.
    return {
      kind: 'audit',
      requests: [
        {
          // The event comes from the bucket's account and Region (a member account's rule forwards it).
          account,
          region,
          bucket: detail.bucket.name,
          key: detail.object.key,
          source: 'eventbridge',
          ...(detail.object['version-id'] && !removal ? { versionId: detail.object['version-id'] } : {}),
          ...(detail.object['version-id'] && removal && detail['deletion-type'] === 'Permanently Deleted' ? { removedVersionId: detail.object['version-id'] } : {}),
          ...(detail.object.sequencer ? { sequencer: detail.object.sequencer } : {}),
          ...(detail.object.size === undefined ? {} : { size: detail.object.size }),
          ...(detail.object.etag ? { etag: detail.object.etag } : {}),
        },
      ],
    };
  }

  if (document && typeof document === 'object' && (document as { kind?: unknown }).kind === SWEEP_MESSAGE_KIND) {
    const parsed = sweepMessage.safeParse(document);
    if (!parsed.success) return { kind: 'invalid', reason: `sweep message: ${describeIssues(parsed.error)}` };
    const { runId, page, bucket, objects, account, region } = parsed.data;
    return {
      kind: 'audit',
      sweep: { runId, page },
      requests: objects.map((o) => ({
        ...(account ? { account } : {}),
        ...(region ? { region } : {}),
        bucket,
        key: o.key,
        size: o.size,
        source: 'sweep' as const,
        ...(o.versionId ? { versionId: o.versionId } : {}),
        ...(o.etag ? { etag: o.etag } : {}),
        ...(o.isLatest === undefined ? {} : { isLatest: o.isLatest, exactVersion: true }),
        ...(o.deleteMarker ? { deleteMarker: true } : {}),
      })),
    };
  }
  if (document && typeof document === 'object' && (document as { kind?: unknown }).kind === KEY_REEVALUATION_MESSAGE_KIND) {
    const parsed = keyReevaluationMessage.safeParse(document);
    if (!parsed.success) return { kind: 'invalid', reason: `key re-evaluation message: ${describeIssues(parsed.error)}` };
    const { keyArn, bucket, objects, account, region } = parsed.data;
    return {
      kind: 'audit',
      requests: objects.map((o) => ({ ...(account ? { account } : {}), ...(region ? { region } : {}), bucket, key: o.key, size: o.size, source: 'key-event' as const, changedKeyArn: keyArn })),
    };
  }
  const kind = document && typeof document === 'object' ? (document as { kind?: unknown }).kind : undefined;
  if (kind === INVENTORY_FILE_MESSAGE_KIND) {
    const parsed = InventoryFileMessageSchema.safeParse(document);
    if (!parsed.success) return { kind: 'invalid', reason: `inventory file message: ${describeIssues(parsed.error)}` };
    return { kind: 'inventory-file', message: parsed.data };
  }
  if (kind === INVENTORY_RECONCILE_MESSAGE_KIND) {
    const parsed = InventoryReconcileMessageSchema.safeParse(document);
    if (!parsed.success) return { kind: 'invalid', reason: `inventory reconcile message: ${describeIssues(parsed.error)}` };
    return { kind: 'inventory-reconcile', message: parsed.data };
  }
  if (kind === INVENTORY_DIFF_MESSAGE_KIND) {
    const parsed = InventoryDiffMessageSchema.safeParse(document);
    if (!parsed.success) return { kind: 'invalid', reason: `inventory diff message: ${describeIssues(parsed.error)}` };
    return { kind: 'inventory-diff', message: parsed.data };
  }
  if (kind === ORG_ACCOUNT_MESSAGE_KIND) {
    const parsed = OrgAccountMessageSchema.safeParse(document);
    if (!parsed.success) return { kind: 'invalid', reason: `organization account message: ${describeIssues(parsed.error)}` };
    return { kind: 'org-account', message: parsed.data };
  }
  if (kind === ORG_UNIT_MESSAGE_KIND) {
    const parsed = OrgUnitMessageSchema.safeParse(document);
    if (!parsed.success) return { kind: 'invalid', reason: `organization unit message: ${describeIssues(parsed.error)}` };
    return { kind: 'org-unit', message: parsed.data };
  }
  return { kind: 'invalid', reason: 'not an S3 notification, EventBridge S3 event, SNS notification, sweep, key re-evaluation, inventory or organization sweep message' };
}

/** Parses one SQS message body. Never throws: what cannot be used says why. */
export function parseMessageBody(body: string): ParsedMessage {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    return { kind: 'invalid', reason: 'message body is not JSON' };
  }
  return fromDocument(document);
}
