// KMS key references: every spelling the policy allows (alias/NAME, alias ARN, key id, key ARN) is
// resolved to the key ARN S3 reports, and only then are references compared: `alias/app` and the
// ARN of the key it points to are the same key.
import { PolicyError, type Policy, type Requirement, type ResolvedPolicy } from './policy-model.ts';

/** Every KMS key reference the policy names, for resolution to ARNs. */
export function keyReferences(policy: Policy): string[] {
  const refs = new Set<string>();
  for (const requirement of [policy.default, ...policy.rules]) {
    for (const ref of requirement.kmsKeys ?? []) refs.add(ref);
    for (const ref of requirement.posture.bucketDefault?.kmsKeys ?? []) refs.add(ref);
    if (requirement.target?.kmsKey) refs.add(requirement.target.kmsKey);
  }
  return [...refs];
}

/**
 * Target keys that must be one of a list, compared as the ARNs they resolve to. Each problem names
 * the field and shows every reference as given and as resolved, so that a mismatch between two
 * spellings is visible as the two keys it really is.
 */
export function keyMembershipProblems(policy: Policy, arnOf: (ref: string) => string): string[] {
  const shown = (ref: string) => {
    const arn = arnOf(ref);
    return arn === ref ? ref : `${ref} (${arn})`;
  };
  const problems: string[] = [];
  const requirements: [string, Requirement][] = [['default', policy.default], ...policy.rules.map((rule, i): [string, Requirement] => [`rules[${i}]`, rule])];
  for (const [path, requirement] of requirements) {
    const targetKey = requirement.target?.kmsKey;
    if (!targetKey) continue;
    const mustBeOneOf = (allowed: string[] | undefined, field: string) => {
      if (!allowed || allowed.some((ref) => arnOf(ref) === arnOf(targetKey))) return;
      problems.push(`${path}.target.kmsKey: ${shown(targetKey)} is not one of ${field}: ${allowed.map(shown).join(', ')}`);
    };
    mustBeOneOf(requirement.kmsKeys, 'kmsKeys');
    // Remediation sets the bucket default to the target, so it must satisfy bucketDefault too.
    if (requirement.remediate) mustBeOneOf(requirement.posture.bucketDefault?.kmsKeys, 'bucketDefault.kmsKeys');
  }
  return problems;
}

/**
 * Replaces every key reference by the ARN the resolver gives for it, after checking the references
 * that must name the same key; throws PolicyError naming each mismatch.
 */
export function resolvePolicy(policy: Policy, arnOf: (ref: string) => string, source = 'document'): ResolvedPolicy {
  const problems = keyMembershipProblems(policy, arnOf);
  if (problems.length > 0) throw new PolicyError(source, problems);
  const resolveKeys = (refs: string[]) => [...new Set(refs.map(arnOf))];
  const resolve = <R extends Requirement>(requirement: R): R => ({
    ...requirement,
    ...(requirement.kmsKeys ? { kmsKeys: resolveKeys(requirement.kmsKeys) } : {}),
    posture: {
      ...requirement.posture,
      ...(requirement.posture.bucketDefault
        ? {
            bucketDefault: {
              ...requirement.posture.bucketDefault,
              ...(requirement.posture.bucketDefault.kmsKeys
                ? { kmsKeys: resolveKeys(requirement.posture.bucketDefault.kmsKeys) }
                : {}),
            },
          }
        : {}),
    },
    ...(requirement.target
      ? {
          target: {
            ...requirement.target,
            ...(requirement.target.kmsKey ? { kmsKey: arnOf(requirement.target.kmsKey) } : {}),
          },
        }
      : {}),
  });
  return { ...policy, default: resolve(policy.default), rules: policy.rules.map(resolve), resolved: true };
}

/**
 * Where the policy names a key reference, as document paths (`rules[0].kmsKeys[0]`,
 * `default.target.kmsKey`). Rules share the arrays and objects they inherit, so each is reported
 * once, at the place it was written.
 */
export function referencePaths(policy: Policy, ref: string): string[] {
  const paths: string[] = [];
  const seen = new Set<object>();
  const own = <T extends object>(value: T | undefined): value is T => {
    if (!value || seen.has(value)) return false;
    seen.add(value);
    return true;
  };
  const requirements = [['default', policy.default] as const, ...policy.rules.map((rule, i) => [`rules[${i}]`, rule] as const)];
  for (const [at, requirement] of requirements) {
    if (own(requirement.kmsKeys)) requirement.kmsKeys.forEach((r, i) => r === ref && paths.push(`${at}.kmsKeys[${i}]`));
    const bucketDefault = requirement.posture.bucketDefault;
    if (own(bucketDefault?.kmsKeys)) bucketDefault.kmsKeys.forEach((r, i) => r === ref && paths.push(`${at}.bucketDefault.kmsKeys[${i}]`));
    // A target is completed from kmsKeys[0] when not written: named only where kmsKeys does not name it.
    if (own(requirement.target) && requirement.target.kmsKey === ref && !requirement.kmsKeys?.includes(ref)) paths.push(`${at}.target.kmsKey`);
  }
  return paths;
}
