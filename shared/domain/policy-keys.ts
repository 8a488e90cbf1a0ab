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

/** Replaces every key reference by the ARN the resolver gives for it. */
export function resolvePolicy(policy: Policy, arnOf: (ref: string) => string): ResolvedPolicy {
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
