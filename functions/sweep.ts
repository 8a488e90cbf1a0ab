// Scheduled sweep: on every tick, resume the run in progress or, when the interval has passed,
// start a new one; stop a minute before the Lambda's time runs out and resume on the next tick.
// With SSEGUARD_SWEEP_INVENTORY=auto, a bucket with a fresh S3 Inventory report is covered by it
// (one message per data file), any other is listed; the run record says which and why.
// With SSEGUARD_ORGANIZATION_ID the tick first sends one message per account of the Organization
// (shared/sweep/org-sweep.ts); the worker audits them.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from '#powertools';
import { checkKeyDrift, keyDriftLine, type KeyDriftOutcome } from '#shared/audit/key-drift.ts';
import { auditPosture } from '#shared/posture/audit-posture.ts';
import { bucketsToSweep } from '#shared/sweep/buckets.ts';
import { sweep, type SweepOutcome } from '#shared/sweep/sweep.ts';
import { orgSweep, type OrgSweepOutcome } from '#shared/sweep/org-sweep.ts';
import { orgSweepDependencies, sweepDependencies, sweepInventory } from '#commons/sweep-dependencies.ts';

/** Time kept in hand to save the checkpoint after the last page. */
const STOP_BEFORE_TIMEOUT_MS = 60_000;

/** With an Organization (SSEGUARD_ORGANIZATION_ID): the fan-out's outcome beside the central buckets' sweep, if any. */
export type SweepTickOutcome = (SweepOutcome & { keyCheck?: KeyDriftOutcome }) | ((SweepOutcome | { status: 'no-buckets'; reason: string }) & { organization: OrgSweepOutcome });

export const handler = middy(async (_event: unknown, context: Context): Promise<SweepTickOutcome> => {
  const deps = await sweepDependencies();
  // The Organization first: it only lists accounts and enqueues one message each (the worker lists
  // and audits them), so it takes seconds and never waits behind a long listing of central buckets.
  let organization: OrgSweepOutcome | undefined;
  // A failed fan-out (Organizations still throttled after the client's retries) records no run and
  // fails the tick, after the central buckets' sweep has had its turn.
  let organizationFailure: unknown;
  if (deps.config.organization) {
    try {
      organization = await orgSweep(orgSweepDependencies(deps), { organizationId: deps.config.organization.id, minimumIntervalMs: deps.config.sweepIntervalHours * 3_600_000 });
      logger.info('organization sweep tick', { ...organization });
      if (organization.status !== 'not-due') metrics.addMetric('OrganizationAccountsEnqueued', MetricUnit.Count, organization.accounts);
    } catch (error) {
      logger.error('organization sweep tick failed', { error: error as Error });
      organizationFailure = error;
    }
    if (deps.config.sweepBuckets.length === 0) {
      if (organizationFailure) throw organizationFailure;
      return { status: 'no-buckets', reason: 'SSEGUARD_SWEEP_BUCKETS is empty: only the Organization is swept', organization: organization! };
    }
  }
  const [lastRun] = await deps.sweepRuns.runs(1);
  const resuming = (await deps.sweepRuns.checkpoint()) !== undefined;
  // Reports list current objects: a sweep of every version lists them instead.
  const useInventory = deps.config.sweepInventory === 'auto' && !deps.config.sweepAllVersions;
  const outcome = await sweep(
    {
      // Every version (and delete marker) when configured: noncurrent versions are exposure too.
      lister: deps.config.sweepAllVersions
        ? { page: (bucket: string, token?: string) => deps.runtime.objects.versionPage(bucket, token) }
        : deps.runtime.objects,
      queue: deps.queues,
      runs: deps.sweepRuns,
      buckets: () =>
        bucketsToSweep(deps.runtime.clients.s3, deps.config.sweepBuckets, {
          regions: deps.config.sweepRegions,
          regionOf: (bucket) => deps.runtime.bucketRegions.regionOf(bucket),
          onSkipped: (skipped) => {
            logger.warn('bucket skipped by SSEGUARD_SWEEP_REGIONS', { ...skipped });
            metrics.addMetric('BucketsSkippedByRegion', MetricUnit.Count, 1);
          },
        }),
      ...(useInventory ? { inventory: sweepInventory(deps) } : {}),
      onCoverage: (coverage) => {
        logger.info('bucket coverage', { ...coverage });
        metrics.addMetric(coverage.evidence === 'inventory' ? 'BucketsByInventory' : 'BucketsByListing', MetricUnit.Count, 1);
      },
      onBucketStart: async (bucket) => {
        // A bucket's posture is one finding among its objects': a failure to read it must not
        // stop the objects from being swept.
        try {
          const { finding } = await auditPosture(deps.posture, bucket);
          metrics.addMetric(`BucketPosture-${finding.verdict}`, MetricUnit.Count, 1);
        } catch (error) {
          logger.error('bucket posture not audited', { bucket, error: error as Error });
        }
      },
    },
    {
      shouldStop: () => context.getRemainingTimeInMillis() < STOP_BEFORE_TIMEOUT_MS,
      minimumIntervalMs: deps.config.sweepIntervalHours * 3_600_000,
      ...(lastRun ? { lastRunStartedAt: lastRun.startedAt } : {}),
    },
  );
  // Once per run, when it starts: objects an inventory diff leaves unaudited keep the verdict their
  // key's state gave them, so each key they depend on is described afresh (shared/audit/key-drift.ts).
  let keyCheck: KeyDriftOutcome | undefined;
  if (!resuming && (outcome.status === 'finished' || outcome.status === 'paused')) {
    try {
      keyCheck = await checkKeyDrift(deps.keyCheck);
      (keyCheck.unchecked.length ? logger.warn : logger.info).call(logger, keyDriftLine(keyCheck), { ...keyCheck });
      metrics.addMetric('KeysDescribed', MetricUnit.Count, keyCheck.described);
      metrics.addMetric('KeysDrifted', MetricUnit.Count, keyCheck.changed.length);
      metrics.addMetric('KeysUnchecked', MetricUnit.Count, keyCheck.unchecked.length);
    } catch (error) {
      // The objects were enqueued and the run recorded: the check is tried again by the next run.
      logger.error('key drift check failed', { error: error as Error });
      metrics.addMetric('KeysUnchecked', MetricUnit.Count, 1);
    }
  }
  logger.info('sweep tick', { ...outcome });
  if ('objectsEnqueued' in outcome) metrics.addMetric('ObjectsEnqueued', MetricUnit.Count, outcome.objectsEnqueued);
  if ('filesEnqueued' in outcome && outcome.filesEnqueued) metrics.addMetric('InventoryFilesEnqueued', MetricUnit.Count, outcome.filesEnqueued);
  if (organizationFailure) throw organizationFailure;
  const withKeys = keyCheck ? { ...outcome, keyCheck } : outcome;
  return organization ? { ...withKeys, organization } : withKeys;
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
