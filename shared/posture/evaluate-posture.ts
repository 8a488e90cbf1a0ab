// Bucket posture evaluation, pure: (bucket facts, policy, now) → verdict with reasons, in the same
// words as object findings. Precedence, most urgent first:
//   1. the default's KMS key cannot encrypt      → at-risk (uploads relying on the default fail)
//   2. an exemption for the whole bucket         → exempt
//   3. a posture requirement is not met          → noncompliant
//   4. a requirement could not be checked        → unauditable
//   5. otherwise                                 → compliant
import { AT_RISK_STATES, MODES_SATISFYING } from '../domain/evaluate.ts';
import { exemptionsFor, postureRequirementFor, type BucketDefaultRequirement, type ResolvedPolicy } from '../domain/policy.ts';
import type { PostureFinding } from '../domain/posture-finding.ts';
import type { Reason, ReasonCode } from '../domain/verdict.ts';
import { analysePutEncryption, analyseTls, parseBucketPolicy, type PutEncryptionAnalysis, type TlsAnalysis } from './bucket-policy.ts';
import { sseCBlocking, type BucketFacts } from './facts.ts';

// Kept here for importers from before the plain types moved to shared/domain/.
export type { Enforcement, PostureFinding } from '../domain/posture-finding.ts';

const reason = (code: ReasonCode, message: string): Reason => ({ code, message });

interface PolicyAnalysis {
  status: PostureFinding['policy'];
  detail?: string;
  tls?: TlsAnalysis;
  puts?: PutEncryptionAnalysis;
}

function analysePolicy(facts: BucketFacts): PolicyAnalysis {
  if (facts.policy.status === 'none') return { status: 'none' };
  if (facts.policy.status === 'unreadable') return { status: 'unreadable', detail: facts.policy.detail };
  const parsed = parseBucketPolicy(facts.policy.text);
  if (!parsed.ok) return { status: 'invalid', detail: parsed.problem };
  return {
    status: 'read',
    tls: analyseTls(parsed.statements, facts.bucket, facts.partition),
    puts: analysePutEncryption(parsed.statements, facts.bucket, facts.partition),
  };
}

function defaultKeyRisk(facts: BucketFacts): Reason | undefined {
  const key = facts.defaultKey;
  if (!key) return undefined;
  if (key.status === 'not-found') {
    return reason('kms-key-not-found', `bucket default KMS key ${key.arn} does not exist: uploads relying on the default fail`);
  }
  if (key.status !== 'described') return undefined;
  const code = AT_RISK_STATES[key.state];
  if (!code) return undefined;
  const when = key.deletionDate ? ` (deletion on ${key.deletionDate})` : '';
  return reason(code, `bucket default KMS key ${key.arn} is ${key.state}${when}: uploads relying on the default fail`);
}

function checkBucketDefault(facts: BucketFacts, required: BucketDefaultRequirement, violations: Reason[], unknowns: Reason[]): void {
  const encryption = facts.defaultEncryption;
  if (encryption.status === 'unreadable') {
    unknowns.push(reason('bucket-encryption-unreadable', `cannot read the default encryption: ${encryption.detail}`));
    return;
  }
  if (encryption.status === 'none') {
    violations.push(reason('bucket-default-missing', 'bucket has no default encryption'));
    return;
  }
  const mode = encryption.mode;
  if (!mode || !MODES_SATISFYING[required.require].includes(mode)) {
    violations.push(reason('bucket-default-mode-not-allowed', `policy requires ${required.require}; bucket default is ${mode ?? encryption.algorithm}`));
  }
  if (mode !== 'sse-kms' && mode !== 'dsse-kms') return;
  const key = facts.defaultKey;
  const arn = key?.status === 'described' ? key.arn : (encryption.kmsKeyRef ?? 'alias/aws/s3');
  if (required.kmsKeys && !required.kmsKeys.includes(arn)) {
    violations.push(reason('bucket-default-kms-key-not-allowed', `bucket default KMS key ${arn} is not one of the policy's kmsKeys`));
  }
  if (required.bucketKey === 'required' && mode === 'sse-kms' && !encryption.bucketKeyEnabled) {
    violations.push(reason('bucket-default-bucket-key-disabled', 'policy requires an S3 Bucket Key; the bucket default has none'));
  }
  if (!required.customerManagedKey) return;
  if (key?.status !== 'described') {
    const code: ReasonCode = key?.status === 'access-denied' ? 'kms-key-access-denied' : 'kms-key-lookup-failed';
    unknowns.push(reason(code, `cannot describe bucket default KMS key ${arn}${key && 'detail' in key ? `: ${key.detail}` : ''}`));
  } else if (key.manager !== 'CUSTOMER') {
    violations.push(reason('bucket-default-kms-key-aws-managed', `policy requires a customer-managed key; bucket default ${arn} is AWS managed`));
  }
}

export function evaluatePosture(facts: BucketFacts, policy: ResolvedPolicy, now: Date): PostureFinding {
  const { requirement, ruleIndex } = postureRequirementFor(policy, facts.bucket);
  const posture = requirement.posture;
  const { active, expired } = exemptionsFor(policy, facts.bucket, '', now);
  const analysis = analysePolicy(facts);
  const blocking = sseCBlocking(facts.defaultEncryption);
  const encryption = facts.defaultEncryption;
  const key = facts.defaultKey;

  const finding: PostureFinding = {
    bucket: facts.bucket,
    verdict: 'compliant',
    reasons: [],
    remediate: false,
    auditedAt: now.toISOString(),
    defaultEncryption: {
      status: encryption.status,
      ...(encryption.status === 'configured'
        ? {
            mode: encryption.mode ?? encryption.algorithm,
            bucketKeyEnabled: encryption.bucketKeyEnabled,
            ...(key ? { kmsKeyArn: key.arn } : {}),
            ...(key?.status === 'described' ? { kmsKeyState: key.state } : {}),
          }
        : {}),
    },
    sseC: blocking,
    policy: analysis.status,
    tls: analysis.tls ? (analysis.tls.enforced ? 'enforced' : 'not-enforced') : analysis.status === 'none' ? 'not-enforced' : 'unknown',
    unencryptedPuts: analysis.puts
      ? analysis.puts.deniesMissingHeader
        ? 'denied'
        : 'allowed'
      : analysis.status === 'none'
        ? 'allowed'
        : 'unknown',
    notes: [...(analysis.tls?.nearMisses ?? []), ...(analysis.puts?.nearMisses ?? [])],
    ...(ruleIndex === undefined ? {} : { ruleIndex }),
  };
  const notes = expired ? [reason('exemption-expired', `exemption (owner ${expired.owner}) expired ${expired.expires.toISOString()}`)] : [];
  const exempted = active
    ? reason('exempted', `exempt until ${active.expires.toISOString()} (owner ${active.owner}): ${active.reason}`)
    : undefined;

  const risk = defaultKeyRisk(facts);
  if (risk) return { ...finding, verdict: 'at-risk', reasons: [risk, ...(exempted ? [exempted] : notes)] };
  if (exempted) return { ...finding, verdict: 'exempt', reasons: [exempted] };

  const violations: Reason[] = [];
  const unknowns: Reason[] = [];
  if (posture.bucketDefault) checkBucketDefault(facts, posture.bucketDefault, violations, unknowns);
  if (posture.blockSseC) {
    if (blocking === 'allowed') violations.push(reason('sse-c-not-blocked', 'bucket accepts SSE-C uploads (BlockedEncryptionTypes does not list SSE-C)'));
    if (blocking === 'unknown') {
      unknowns.push(
        encryption.status === 'unreadable'
          ? reason('bucket-encryption-unreadable', `cannot read the default encryption: ${encryption.detail}`)
          : reason('sse-c-blocking-unknown', 'GetBucketEncryption did not return BlockedEncryptionTypes: whether SSE-C uploads are blocked is unknown'),
      );
    }
  }
  const policyUnknown = (): Reason =>
    analysis.status === 'invalid'
      ? reason('bucket-policy-invalid', `the bucket policy cannot be parsed: ${analysis.detail}`)
      : reason('bucket-policy-unreadable', `cannot read the bucket policy: ${analysis.detail}`);
  const nearMisses = (list: string[]) => (list.length > 0 ? ` (${list.join('; ')})` : '');
  if (posture.requireTls) {
    if (finding.tls === 'not-enforced') {
      violations.push(
        reason(
          'tls-not-required',
          analysis.status === 'none'
            ? 'bucket has no policy: requests without TLS are not denied'
            : `bucket policy does not deny requests without TLS (aws:SecureTransport false)${nearMisses(analysis.tls?.nearMisses ?? [])}`,
        ),
      );
    }
    if (finding.tls === 'unknown') unknowns.push(policyUnknown());
  }
  if (posture.denyUnencryptedPuts) {
    if (finding.unencryptedPuts === 'allowed') {
      violations.push(
        reason(
          'unencrypted-puts-not-denied',
          `bucket policy does not deny PutObject without x-amz-server-side-encryption${nearMisses(analysis.puts?.nearMisses ?? [])}`,
        ),
      );
    }
    if (finding.unencryptedPuts === 'unknown' && !unknowns.some((u) => u.code.startsWith('bucket-policy-'))) unknowns.push(policyUnknown());
  }

  if (violations.length > 0) {
    // What sseguard can fix: the default encryption (to the rule's target), SSE-C blocking and the TLS deny.
    const fixable = violations.some(
      (v) =>
        v.code === 'sse-c-not-blocked' ||
        (v.code === 'tls-not-required' && (analysis.status === 'none' || analysis.status === 'read')) ||
        (v.code.startsWith('bucket-default-') && requirement.target !== undefined),
    );
    return { ...finding, verdict: 'noncompliant', remediate: requirement.remediate && fixable, reasons: [...violations, ...unknowns, ...notes] };
  }
  if (unknowns.length > 0) return { ...finding, verdict: 'unauditable', reasons: [...unknowns, ...notes] };
  return { ...finding, verdict: 'compliant', reasons: notes };
}
