// Audits one bucket's posture (inspect → evaluate → record) and, when asked, remediates it and
// audits again. The CLI's `posture` and `scan` commands and any handler share these functions.
import type { S3Client } from '@aws-sdk/client-s3';
import { postureRequirementFor, type ResolvedPolicy } from '../domain/policy.ts';
import type { PostureFinding } from '../domain/posture-finding.ts';
import type { PostureStore } from '../findings/posture-store.ts';
import type { S3BucketInspector } from './bucket-inspector.ts';
import { evaluatePosture } from './evaluate-posture.ts';
import type { BucketFacts } from './facts.ts';
import { applyPosturePlan, planPostureRemediation, type ApplyResult, type PosturePlan } from './remediate.ts';

export interface PostureDependencies {
  buckets: S3BucketInspector;
  policy: ResolvedPolicy;
  store?: PostureStore;
  clock?: () => Date;
}

export interface PostureAudit {
  facts: BucketFacts;
  finding: PostureFinding;
}

export async function auditPosture(deps: PostureDependencies, bucket: string): Promise<PostureAudit> {
  const facts = await deps.buckets.inspect(bucket);
  const finding = evaluatePosture(facts, deps.policy, deps.clock?.() ?? new Date());
  await deps.store?.record(finding);
  return { facts, finding };
}

export interface PostureRemediation {
  audit: PostureAudit;
  plan: PosturePlan;
  /** Undefined on a dry run, or when the policy says report only. */
  result?: ApplyResult;
  /** The posture after the changes (undefined when nothing was applied). */
  after?: PostureAudit;
  /** Why nothing was applied although changes were planned. */
  withheld?: string;
}

/** Plans the fix; applies it only when not a dry run and the policy's rule says remediate. */
export async function remediatePosture(
  deps: PostureDependencies & { s3: S3Client },
  bucket: string,
  options: { dryRun: boolean },
): Promise<PostureRemediation> {
  const audit = await auditPosture(deps, bucket);
  const { requirement } = postureRequirementFor(deps.policy, bucket);
  const plan = planPostureRemediation(audit.facts, audit.finding, requirement);
  if (plan.changes.length === 0) return { audit, plan };
  if (options.dryRun) return { audit, plan, withheld: 'dry run' };
  if (!requirement.remediate) return { audit, plan, withheld: 'the policy rule for this bucket says report only (remediate: false)' };

  const result = await applyPosturePlan(deps.s3, deps.buckets, plan, deps.clock);
  for (const change of result.applied) await deps.store?.recordChange(change);
  const after = result.applied.length > 0 ? await auditPosture(deps, bucket) : undefined;
  return { audit, plan, result, ...(after ? { after } : {}) };
}
