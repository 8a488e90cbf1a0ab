// KMS key events (EventBridge rule on CloudTrail's DisableKey, EnableKey, ScheduleKeyDeletion,
// CancelKeyDeletion): re-evaluate every object under the key and raise or clear at-risk.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { logger, metrics, tracer } from '#powertools';
import { reevaluateKey, type KeyReevaluation } from '#shared/audit/reevaluate-key.ts';
import { parseKeyEvent } from '#shared/events/key-events.ts';
import { keyEventDependencies } from '#commons/key-event-dependencies.ts';

export type KeyEventResult = { status: 'ignored' | 'invalid'; reason: string } | ({ status: 'reevaluated' } & KeyReevaluation);

export const handler = middy(async (event: unknown): Promise<KeyEventResult> => {
  const parsed = parseKeyEvent(event);
  if (parsed.kind !== 'key-state') {
    // EventBridge would retry a thrown error to no purpose: say why and stop.
    (parsed.kind === 'invalid' ? logger.error : logger.info).call(logger, 'key event not used', { reason: parsed.reason });
    return { status: parsed.kind === 'invalid' ? 'invalid' : 'ignored', reason: parsed.reason };
  }
  const result = await reevaluateKey(await keyEventDependencies(), parsed.keyRef);
  logger.info('objects re-evaluated after a key-state change', { call: parsed.call, key: result.key.arn, objects: result.objects, verdicts: result.verdicts });
  metrics.addMetric('ObjectsReevaluated', MetricUnit.Count, result.objects);
  return { status: 'reevaluated', ...result };
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
