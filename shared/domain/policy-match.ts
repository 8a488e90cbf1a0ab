// Matching: which rule judges an object (requirementFor) or a bucket (postureRequirementFor), and
// which exemptions apply. Pure: the first matching rule wins, bucket globs are picomatch globs.
import picomatch from 'picomatch';
import type { Exemption, Policy, Scope } from './policy-model.ts';

const globCache = new Map<string, (name: string) => boolean>();
export function bucketMatches(glob: string, bucket: string): boolean {
  let matcher = globCache.get(glob);
  if (!matcher) {
    matcher = picomatch(glob, { dot: true });
    globCache.set(glob, matcher);
  }
  return matcher(bucket);
}

export const inScope = (scope: Scope, bucket: string, key: string): boolean =>
  bucketMatches(scope.bucket, bucket) && key.startsWith(scope.prefix);

/** The first rule whose bucket glob and prefix match wins; otherwise the default applies. */
export function requirementFor<P extends Policy>(
  policy: P,
  bucket: string,
  key: string,
): { requirement: P['default']; ruleIndex?: number } {
  const ruleIndex = policy.rules.findIndex((rule) => inScope(rule, bucket, key));
  return ruleIndex === -1 ? { requirement: policy.default } : { requirement: policy.rules[ruleIndex]!, ruleIndex };
}

/**
 * The requirement that judges a bucket's own posture: the first rule without a prefix whose bucket
 * glob matches (rules with a prefix judge objects only), otherwise the default.
 */
export function postureRequirementFor<P extends Policy>(
  policy: P,
  bucket: string,
): { requirement: P['default']; ruleIndex?: number } {
  const ruleIndex = policy.rules.findIndex((rule) => rule.prefix === '' && bucketMatches(rule.bucket, bucket));
  return ruleIndex === -1 ? { requirement: policy.default } : { requirement: policy.rules[ruleIndex]!, ruleIndex };
}

/** Exemptions in scope for the object, split into those still in force and those expired. */
export function exemptionsFor(
  policy: Policy,
  bucket: string,
  key: string,
  now: Date,
): { active?: Exemption; expired?: Exemption } {
  const matching = policy.exemptions.filter((e) => inScope(e, bucket, key));
  const active = matching.find((e) => e.expires.getTime() > now.getTime());
  const expired = matching.find((e) => e.expires.getTime() <= now.getTime());
  return { ...(active ? { active } : {}), ...(expired ? { expired } : {}) };
}
