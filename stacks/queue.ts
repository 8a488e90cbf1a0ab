// The audit queue and its dead-letter queue: every path that brings objects in (bucket
// notifications, EventBridge "Object Created", sweep pages) ends here.
import { AUDIT_QUEUE, DEAD_LETTER_QUEUE } from './settings.ts';

export const deadLetterQueue = new sst.aws.Queue('AuditDeadLetterQueue', {
  transform: { queue: { messageRetentionSeconds: DEAD_LETTER_QUEUE.retentionSeconds, sqsManagedSseEnabled: true } },
});

export const auditQueue = new sst.aws.Queue('AuditQueue', {
  visibilityTimeout: `${AUDIT_QUEUE.visibilityTimeoutSeconds} seconds`,
  dlq: { queue: deadLetterQueue.arn, retry: AUDIT_QUEUE.maxReceiveCount },
  transform: { queue: { sqsManagedSseEnabled: true } },
});

export const auditQueueLink = new sst.Linkable('AuditQueue', { properties: { url: auditQueue.url } });
export const deadLetterQueueLink = new sst.Linkable('AuditDeadLetterQueue', { properties: { url: deadLetterQueue.url } });
