// A fix in words, as the report API serves it to the dashboard: each part of the decision table in
// shared/report/remediation-text.ts.
import { expect, test } from 'vitest';
import { describeRemediation, keyName } from '../../shared/report/remediation-text.ts';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/33333333-3333-3333-3333-333333333333';
const aliases = { [KEY]: ['alias/finance'] };

test('an in-place re-encryption under an aliased key: modes, alias, Bucket Key, ETag kept', () => {
  expect(
    describeRemediation(
      { outcome: 'fixed', before: { mode: 'sse-s3', bucketKeyEnabled: false, etag: '"a"' }, after: { mode: 'sse-kms', kmsKeyArn: KEY, bucketKeyEnabled: true, etag: '"a"' } },
      aliases,
    ),
  ).toBe('sse-s3 → sse-kms (alias/finance), bucket key on, ETag kept');
});

test('a copy to a key with no alias names the key by id, says the ETag changed and a new version was made', () => {
  expect(
    describeRemediation({
      outcome: 'fixed',
      before: { mode: 'none', etag: '"a"', versionId: 'v1' },
      after: { mode: 'sse-kms', kmsKeyArn: KEY, bucketKeyEnabled: false, etag: '"b"', versionId: 'v2' },
    }),
  ).toBe('none → sse-kms (key/33333333-3333-3333-3333-333333333333), bucket key off, ETag changed, new version');
});

test('SSE-S3 targets carry no key or Bucket Key words; unknown ETags say nothing about them', () => {
  expect(describeRemediation({ outcome: 'fixed', before: { mode: 'none' }, after: { mode: 'sse-s3', bucketKeyEnabled: false } })).toBe('none → sse-s3');
});

test('a fix that did not change the object says so with its outcome; an unverified one keeps its outcome word', () => {
  expect(describeRemediation({ outcome: 'failed', before: { mode: 'sse-s3' } })).toBe('sse-s3, unchanged (failed)');
  expect(describeRemediation({ outcome: 'unverified', before: { mode: 'sse-s3' }, after: { mode: 'sse-s3' } })).toBe('sse-s3 → sse-s3, unverified');
});

test('a key is named by all its aliases, else by its id', () => {
  expect(keyName(KEY, { [KEY]: ['alias/a', 'alias/b'] })).toBe('alias/a, alias/b');
  expect(keyName(KEY, { [KEY]: [] })).toBe('key/33333333-3333-3333-3333-333333333333');
});
