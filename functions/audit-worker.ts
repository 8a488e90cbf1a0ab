// Audit worker: SQS-triggered. Each message names objects (S3 notification, EventBridge event,
// sweep page, or a page of objects under a KMS key whose state changed, re-evaluated from their
// recorded facts); each is audited, fixed where the policy says so, and recorded. One bad message
// never fails or drops its neighbours: failures are reported per message (partial batch
// response) and SQS redelivers them, then moves them to the dead-letter queue.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger, metrics, tracer } from '#powertools';
import { auditRequests } from '#shared/audit/audit-batch.ts';
import { parseMessageBody } from '#shared/events/audit-queue-messages.ts';
import { workerDependencies } from '#commons/worker-dependencies.ts';

const processor = new BatchProcessor(EventType.SQS);

export class RetryableAuditError extends Error {
  override name = 'RetryableAuditError';
}

async function auditMessage(record: SQSRecord): Promise<void> {
  const parsed = parseMessageBody(record.body);
  if (parsed.kind === 'ignore') {
    logger.info('message ignored', { messageId: record.messageId, reason: parsed.reason });
    return;
  }
  const deps = await workerDependencies();
  if (parsed.kind === 'invalid') {
    // Retrying cannot make it parse: straight to the dead-letter queue, with the reason.
    await deps.queues.deadLetter(record.body, parsed.reason);
    logger.warn('message dead-lettered', { messageId: record.messageId, reason: parsed.reason });
    metrics.addMetric('MessagesDeadLettered', MetricUnit.Count, 1);
    return;
  }
  const receives = Number(record.attributes.ApproximateReceiveCount ?? '1');
  // Transient failures are never recorded as verdicts: the message is retried, and after its last
  // delivery SQS moves it to the dead-letter queue, where nothing is lost.
  const result = await auditRequests(deps, parsed.requests);
  if (parsed.sweep) await deps.sweepRuns.countPage(parsed.sweep, result.recorded);
  metrics.addMetric('ObjectsAudited', MetricUnit.Count, result.recorded.length);
  for (const finding of result.recorded) {
    if (finding.remediation) metrics.addMetric(`Remediation-${finding.remediation.outcome}`, MetricUnit.Count, 1);
  }
  if (result.transient.length > 0) {
    const what = result.transient.map((f) => `${f.bucket}/${f.key}: ${f.reasons.map((r) => r.message).join('; ')}`).join(' | ');
    throw new RetryableAuditError(`${result.transient.length} objects could not be audited (delivery ${receives}): ${what}`);
  }
}

export const handler = middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  (await workerDependencies()).registerLambdaContext(context);
  return processPartialResponse(event, auditMessage, processor, { context });
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
