// Audit worker: SQS-triggered. Each message names objects (S3 notification, EventBridge event,
// sweep page, or a page of objects under a KMS key whose state changed, re-evaluated from their
// recorded facts), or one data file of an S3 Inventory report (or that report's reconciliation),
// or a step of the Organization sweep (an account to list, a page of an account × Region);
// each object is audited, fixed where the policy says so, and recorded. One bad message
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
import { auditInventoryFile, reconcileInventoryReport, type ReconciledReport } from '#shared/audit/inventory-file-audit.ts';
import { auditInventoryDiffSlice, pollInventoryDiff, settleCarriedAbsences, startInventoryDiff } from '#shared/audit/inventory-diff-sweep.ts';
import { parseMessageBody } from '#shared/events/audit-queue-messages.ts';
import { InventoryError } from '#shared/inventory/errors.ts';
import { workerDependencies } from '#commons/worker-dependencies.ts';
import { auditDependenciesFor, orgUnitDependencies, withOwnAccount } from '#commons/member-accounts.ts';
import { auditOrgAccount, auditOrgUnitStep } from '#shared/sweep/org-units.ts';
import type { AuditRequest } from '#shared/events/audit-queue-messages.ts';
import type { Finding } from '#shared/domain/finding.ts';

const processor = new BatchProcessor(EventType.SQS);

/** Reports a retry cannot mend (their shape, not their delivery, is wrong): dead-lettered at once. */
const PERMANENT_INVENTORY_ERRORS: readonly InventoryError['code'][] = ['manifest-invalid', 'wrong-bucket', 'unsupported-format', 'schema-missing-column', 'location-invalid'];

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
  if (parsed.kind === 'inventory-file' || parsed.kind === 'inventory-reconcile' || parsed.kind === 'inventory-diff') {
    try {
      await auditInventoryMessage(parsed, receives);
    } catch (error) {
      if (error instanceof InventoryError && PERMANENT_INVENTORY_ERRORS.includes(error.code)) {
        await deps.queues.deadLetter(record.body, `${error.code}: ${error.message}`);
        logger.error('inventory message dead-lettered', { messageId: record.messageId, code: error.code, reason: error.message });
        metrics.addMetric('MessagesDeadLettered', MetricUnit.Count, 1);
        return;
      }
      // Throttling, a dropped or truncated read, a checksum that does not match (a report still
      // being written, or altered): retried, then dead-lettered; never a verdict.
      logger.warn('inventory message failed', { messageId: record.messageId, delivery: receives, error: error as Error });
      throw error;
    }
    return;
  }
  if (parsed.kind === 'org-account' || parsed.kind === 'org-unit') {
    // The Organization sweep: a transient failure retries the message; on its last delivery it
    // becomes a named gap in the run record (never a verdict) and the unit goes on.
    const delivery = { receives, last: receives >= deps.config.maxReceiveCount };
    const units = orgUnitDependencies(deps);
    const outcome = parsed.kind === 'org-account' ? await auditOrgAccount(units, parsed.message, delivery) : await auditOrgUnitStep(units, parsed.message, delivery);
    logger.info('organization sweep unit', { messageId: record.messageId, ...parsed.message, ...outcome });
    if (outcome.outcome === 'counted') metrics.addMetric('ObjectsAudited', MetricUnit.Count, outcome.objects);
    if (outcome.outcome === 'gap' || (outcome.outcome === 'counted' && outcome.gap)) metrics.addMetric('OrganizationCoverageGaps', MetricUnit.Count, 1);
    return;
  }
  // Transient failures are never recorded as verdicts: the message is retried, and after its last
  // delivery SQS moves it to the dead-letter queue, where nothing is lost.
  // Requests of each account (an EventBridge event's `account`, a sweep or key page's) through that account's role.
  const byAccount = new Map<string, AuditRequest[]>();
  for (const request of parsed.requests) byAccount.set(request.account ?? '', [...(byAccount.get(request.account ?? '') ?? []), request]);
  const result: { recorded: Finding[]; transient: Finding[] } = { recorded: [], transient: [] };
  for (const [account, requests] of byAccount) {
    let accountDeps;
    try {
      accountDeps = await auditDependenciesFor(deps, account || undefined, requests[0]!.region);
    } catch (error) {
      throw new RetryableAuditError(`account ${account} cannot be reached (delivery ${receives}): ${(error as Error).message}`, { cause: error });
    }
    const audited = await auditRequests(accountDeps, account ? requests : await withOwnAccount(deps.config, deps.bucketRegion, requests));
    result.recorded.push(...audited.recorded);
    result.transient.push(...audited.transient);
  }
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

async function auditInventoryMessage(
  parsed: Extract<ReturnType<typeof parseMessageBody>, { kind: 'inventory-file' | 'inventory-reconcile' | 'inventory-diff' }>,
  receives: number,
): Promise<void> {
  const deps = await workerDependencies();
  if (parsed.kind === 'inventory-diff') {
    await inventoryDiffStep(parsed.message, receives);
    return;
  }
  if (parsed.kind === 'inventory-reconcile') {
    const result = await reconcileInventoryReport(deps, parsed.message);
    // A key range read from Athena takes several messages (query started, polled, slices): each logged as a step.
    logger.info(result.status === 'reconciled' ? 'inventory key range reconciled' : 'inventory reconcile step', { bucket: parsed.message.bucket, manifestKey: parsed.message.manifestKey, ...result });
    metrics.addMetric('ObjectsRemovedByInventory', MetricUnit.Count, result.removed);
    metrics.addMetric('InventoryObjectsUnanswered', MetricUnit.Count, result.absence?.keptUnanswered ?? 0);
    reportReconciled(parsed.message, result.report);
    return;
  }
  // The sweep's inventory messages are the central account's own buckets.
  const [own] = await withOwnAccount(deps.config, deps.bucketRegion, [{ bucket: parsed.message.bucket } as { bucket: string; account?: string; region?: string }]);
  const origin = own?.account && own.region ? { account: own.account, region: own.region } : undefined;
  const result = await auditInventoryFile(deps, parsed.message, origin);
  metrics.addMetric('ObjectsAudited', MetricUnit.Count, result.recorded.length);
  if (result.stats) {
    metrics.addMetric('InventoryRowsByInventory', MetricUnit.Count, result.stats.byInventory);
    metrics.addMetric('InventoryRowsByHead', MetricUnit.Count, result.stats.byHead);
    metrics.addMetric('InventoryRowsUnchangedSinceReport', MetricUnit.Count, result.stats.unchangedSinceReport);
  }
  logger.info('inventory file audited', {
    bucket: parsed.message.bucket,
    file: parsed.message.file.key,
    alreadyDone: result.alreadyDone,
    ...(result.rows ? { rows: result.rows } : {}),
    ...(result.continued ? { continued: true } : {}),
    ...(result.superseded ? { superseded: true } : {}),
    recorded: result.recorded.length,
    ...(result.stats ? { stats: result.stats } : {}),
    reconcileQueued: result.reconcileQueued,
    ...(result.fullReadBecause ? { fullReadBecause: result.fullReadBecause } : {}),
  });
  reportReconciled(parsed.message, result.reconciled);
  if (result.transient.length > 0) {
    const what = result.transient.slice(0, 5).map((f) => `${f.bucket}/${f.key}: ${f.reasons.map((r) => r.message).join('; ')}`).join(' | ');
    throw new RetryableAuditError(`${result.transient.length} objects of ${parsed.message.file.key} could not be audited (delivery ${receives}): ${what}`);
  }
}

/**
 * A report this message reconciled, said as `sseguard scan --inventory` says its run: coverage
 * `partial` when objects were kept because no HeadObject could answer (whether they are gone is
 * unknown), with how many; `complete` otherwise. Kept on the report's progress item too.
 */
function reportReconciled(message: { bucket: string; manifestKey: string }, report: ReconciledReport | undefined): void {
  if (!report) return;
  const facts = { bucket: message.bucket, manifestKey: message.manifestKey, ...report };
  if (report.coverage === 'partial') {
    logger.warn('inventory report reconciled: partial (objects kept unanswered)', facts);
    metrics.addMetric('InventoryReportsPartial', MetricUnit.Count, 1);
  } else {
    logger.info('inventory report reconciled', facts);
  }
}

/** A step of a report swept from its Athena diff (shared/audit/inventory-diff-sweep.ts). */
async function inventoryDiffStep(message: Extract<ReturnType<typeof parseMessageBody>, { kind: 'inventory-diff' }>['message'], receives: number): Promise<void> {
  const deps = await workerDependencies();
  const { athena, diff } = deps;
  if (!athena || !diff) {
    // Sent while the setting was on, handled after it was turned off: the report goes out in full.
    throw new InventoryError('location-invalid', 'an inventory diff message, but SSEGUARD_ATHENA_DIFF_TABLE is not set on the worker');
  }
  const diffDeps = { ...deps, athena, diff };
  let result;
  if (message.step === 'start') result = await startInventoryDiff(diffDeps, message);
  else if (message.step === 'poll') result = await pollInventoryDiff(diffDeps, message);
  else if (message.step === 'absences') result = await settleCarriedAbsences(diffDeps, message);
  else {
    const [own] = await withOwnAccount(deps.config, deps.bucketRegion, [{ bucket: message.bucket } as { bucket: string; account?: string; region?: string }]);
    result = await auditInventoryDiffSlice(diffDeps, message, own?.account && own.region ? { account: own.account, region: own.region } : undefined);
  }
  const { recorded, transient, ...facts } = 'recorded' in result ? result : { ...result, recorded: [], transient: [] };
  if (result.outcome === 'full-fan-out') {
    // Never a verdict, never a skip: the report is read in full, and why is kept on its progress item.
    logger.warn('inventory diff fell back to every data file', { bucket: message.bucket, manifestKey: message.manifestKey, ...facts });
    metrics.addMetric('InventoryDiffFallbacks', MetricUnit.Count, 1);
  } else {
    logger.info('inventory diff step', { bucket: message.bucket, manifestKey: message.manifestKey, recorded: recorded.length, ...facts });
  }
  metrics.addMetric('ObjectsAudited', MetricUnit.Count, recorded.length);
  if ('absence' in result) metrics.addMetric('InventoryObjectsUnanswered', MetricUnit.Count, result.absence?.keptUnanswered ?? 0);
  if ('report' in result) reportReconciled(message, result.report);
  if (transient.length > 0) {
    const what = transient.slice(0, 5).map((f) => `${f.bucket}/${f.key}: ${f.reasons.map((r) => r.message).join('; ')}`).join(' | ');
    throw new RetryableAuditError(`${transient.length} objects of the diff of ${message.manifestKey} could not be audited (delivery ${receives}): ${what}`);
  }
}

export const handler = middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  (await workerDependencies()).registerLambdaContext(context);
  return processPartialResponse(event, auditMessage, processor, { context });
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
