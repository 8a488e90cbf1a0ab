// Outbox delivery (EventBridge Scheduler, every minute; reserved concurrency 1): sends the changes
// the worker, the sweep and key events wrote to the outbox beside each finding to EventBridge and
// Security Hub (SSEGUARD_EVENT_BUS, SSEGUARD_SECURITY_HUB=on), and removes each once sent.
//
// Why a function of its own on a schedule rather than a push from the worker after each batch: the
// worker's bundle is at the 1 MiB limit and would need the EventBridge, Security Hub and STS
// clients (and the Lambda client to invoke this one); and the outbox is the source of truth anyway,
// so a delay of at most a minute is the whole cost. The deliverer holds the outbox lease
// (shared/findings/outbox-lease.ts) while it drains, so the CLI's `scan --event-bus/--security-hub`
// and this function never send the same change twice; its lease never outlives the invocation.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from '#powertools';
import { deliverOutbox, type DeliveryResult } from '#shared/delivery/outbox-delivery.ts';
import { outboxDeliveryDependencies } from '#commons/outbox-delivery-dependencies.ts';

/** Time kept in hand to settle the last page and release the lease. */
export const STOP_BEFORE_TIMEOUT_MS = 30_000;

export type OutboxDeliveryResult = { status: 'off' } | ({ status: 'delivered' } & DeliveryResult) | ({ status: 'busy' } & DeliveryResult);

export const handler = middy(async (_event: unknown, context: Context): Promise<OutboxDeliveryResult> => {
  const deps = await outboxDeliveryDependencies();
  if (deps.destinations.length === 0) {
    logger.warn('outbox delivery has no destination: set SSEGUARD_EVENT_BUS or SSEGUARD_SECURITY_HUB=on on the stage');
    return { status: 'off' };
  }
  const result = await deliverOutbox(deps.documents, deps.config.table, deps.destinations, {
    holder: 'lambda',
    notAfter: Date.now() + context.getRemainingTimeInMillis(),
    shouldStop: () => context.getRemainingTimeInMillis() < STOP_BEFORE_TIMEOUT_MS,
  });
  if (result.leaseHeldElsewhere) {
    // The CLI or an earlier invocation is draining: what waits is sent by it, or on the next tick.
    logger.info('outbox lease held by another deliverer: nothing sent');
    return { status: 'busy', ...result };
  }
  for (const [destination, count] of Object.entries(result.delivered)) metrics.addMetric(`Delivered-${destination}`, MetricUnit.Count, count);
  for (const [destination, count] of Object.entries(result.failed)) metrics.addMetric(`DeliveryFailed-${destination}`, MetricUnit.Count, count);
  (Object.values(result.failed).some((n) => n > 0) ? logger.warn : logger.info).call(logger, 'outbox delivered', { ...result });
  return { status: 'delivered', ...result };
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
