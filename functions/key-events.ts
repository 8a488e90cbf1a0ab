// KMS key events (EventBridge rule on CloudTrail's DisableKey, EnableKey, ScheduleKeyDeletion,
// CancelKeyDeletion): re-evaluate every object under the key through the audit pipeline and raise
// or clear at-risk; a key scheduled for deletion while objects depend on it is reported at once.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { logger, metrics, tracer } from '#powertools';
import { handleKeyEvent, type KeyEventOutcome } from '#shared/audit/reevaluate-key.ts';
import { parseKeyEvent } from '#shared/events/key-events.ts';
import { keyEventDependencies } from '#commons/key-event-dependencies.ts';

export type KeyEventResult = { status: 'ignored' | 'invalid'; reason: string } | ({ status: 'reevaluated' } & KeyEventOutcome);

export const handler = middy(async (event: unknown): Promise<KeyEventResult> => {
  const parsed = parseKeyEvent(event);
  if (parsed.kind !== 'key-state') {
    // EventBridge would retry a thrown error to no purpose: say why and stop.
    (parsed.kind === 'invalid' ? logger.error : logger.info).call(logger, 'key event not used', { reason: parsed.reason });
    return { status: parsed.kind === 'invalid' ? 'invalid' : 'ignored', reason: parsed.reason };
  }
  // A failure to describe the key or to reach the queue throws: EventBridge retries the event.
  const result = await handleKeyEvent(await keyEventDependencies(), parsed.call, parsed.keyRef);
  if (result.deletion && result.deletion.objects > 0) {
    logger.error('KMS key scheduled for deletion while objects depend on it', { key: result.key.arn, deletion: result.deletion, cancelled: result.deletionCancelled });
    metrics.addMetric('KeyDeletionWithDependents', MetricUnit.Count, 1);
  }
  if (result.deletionCancelled) metrics.addMetric(`KeyDeletionCancel-${result.deletionCancelled.outcome}`, MetricUnit.Count, 1);
  logger.info('objects re-evaluated after a key-state change', {
    call: parsed.call,
    key: result.key.arn,
    blastRadius: result.blastRadius,
    objects: result.objects,
    verdicts: result.verdicts,
    queued: result.queued,
  });
  metrics.addMetric('ObjectsReevaluated', MetricUnit.Count, result.objects);
  metrics.addMetric('ObjectsQueuedForReevaluation', MetricUnit.Count, result.queued.objects);
  return { status: 'reevaluated', ...result };
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
