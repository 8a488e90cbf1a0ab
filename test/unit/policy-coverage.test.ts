import { describe, expect, test } from 'vitest';
import { policyFromDocument } from '../../shared/domain/policy.ts';
import { unusedRuleWarnings } from '../../shared/domain/policy-coverage.ts';

const policy = policyFromDocument({
  version: 1,
  rules: [
    { bucket: 'data', prefix: 'finanse/', require: 'sse-kms', kmsKeys: ['alias/finance'] },
    { bucket: 'data', prefix: 'pub/', require: 'sse-s3' },
    { bucket: 'other-*', require: 'sse-s3' },
  ],
});

describe('rules that judged nothing in a scan', () => {
  test('a rule for the scanned bucket that judged no object is a warning; rules for other buckets are not', () => {
    const warnings = unusedRuleWarnings(policy, { bucket: 'data', prefix: '', objects: 10 }, new Set([1]));
    expect(warnings).toEqual([expect.stringMatching(/^rules\[0\] \(bucket data, prefix finanse\/\) judged none of the 10 objects/)]);
  });

  test('a scan of another prefix does not blame the rules of a prefix it did not cover', () => {
    expect(unusedRuleWarnings(policy, { bucket: 'data', prefix: 'pub/', objects: 4 }, new Set([1]))).toEqual([]);
  });

  test('no rule names the bucket at all: one warning; an empty scan: none', () => {
    expect(unusedRuleWarnings(policy, { bucket: 'dta', prefix: '', objects: 3 }, new Set())).toEqual([
      'no rule of the policy names bucket dta: the default requirement judged all 3 objects (is a rule\'s bucket misspelled?)',
    ]);
    expect(unusedRuleWarnings(policy, { bucket: 'dta', prefix: '', objects: 0 }, new Set())).toEqual([]);
  });
});
