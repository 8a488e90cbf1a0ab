// Rules that judged nothing in a scan: a bucket glob or prefix with a typo (`finanse/`) silently
// leaves its objects to the default requirement. Said as warnings after a scan of one bucket. Pure.
import { bucketMatches } from './policy-match.ts';
import type { Policy } from './policy-model.ts';

export interface ScanScope {
  bucket: string;
  prefix: string;
  /** Objects the scan judged: with none, no rule can be said to have missed. */
  objects: number;
}

/**
 * One warning per rule that could have judged objects of this scan and judged none, and one when no
 * rule names the bucket at all. Rules about other buckets, or other prefixes than the scan's, are not
 * this scan's business.
 */
export function unusedRuleWarnings(policy: Policy, scope: ScanScope, rulesUsed: ReadonlySet<number>): string[] {
  if (scope.objects === 0 || policy.rules.length === 0) return [];
  const forBucket = policy.rules.map((rule, index) => ({ rule, index })).filter(({ rule }) => bucketMatches(rule.bucket, scope.bucket));
  if (forBucket.length === 0) {
    return [`no rule of the policy names bucket ${scope.bucket}: the default requirement judged all ${scope.objects} objects (is a rule's bucket misspelled?)`];
  }
  const overlaps = (prefix: string) => prefix.startsWith(scope.prefix) || scope.prefix.startsWith(prefix);
  return forBucket
    .filter(({ rule, index }) => overlaps(rule.prefix) && !rulesUsed.has(index))
    .map(({ rule, index }) => `rules[${index}] (bucket ${rule.bucket}${rule.prefix ? `, prefix ${rule.prefix}` : ''}) judged none of the ${scope.objects} objects of this scan: is its prefix misspelled, or an earlier rule matching first?`);
}
