// Scheduled evidence pack (monthly, stacks/functions.ts): the pack as of the end of the month before,
// signed with the evidence signing key, written under a dated prefix of the user's evidence bucket
// (SSEGUARD_EVIDENCE_BUCKET, Object Lock welcome) with conditional writes: a rerun never overwrites.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { logger, metrics, tracer } from '#powertools';
import { evidencePackDependencies } from '#commons/evidence-pack-dependencies.ts';
import { sealMonthlyPack, type ScheduledPackResult } from '#shared/evidence/scheduled.ts';

export const handler = middy(async (): Promise<ScheduledPackResult> => {
  // A failure (the table, KMS or S3 unreachable) throws: the schedule's retry runs it again, and a
  // month already sealed stays as it is.
  const result = await sealMonthlyPack(evidencePackDependencies());
  logger.info('evidence pack', { ...result });
  metrics.addMetric(result.status === 'sealed' ? 'EvidencePackSealed' : 'EvidencePackAlreadySealed', MetricUnit.Count, 1);
  return result;
})
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
