// Which S3 answers mean "this operation is not there" (fall back to the copy) and which are ordinary
// failures (report them): the SDK's error shapes, no AWS.
import { S3ServiceException } from '@aws-sdk/client-s3';
import { expect, test } from 'vitest';
import { unsupportedOperationReason } from '../../shared/remediation/execute.ts';

const s3Error = (name: string, status: number, message = 'm') =>
  new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', message, $metadata: { httpStatusCode: status } });

test.each([
  ['LocalStack: 501 NotImplemented', s3Error('NotImplemented', 501, 'has not yet been emulated'), 'NotImplemented (HTTP 501): has not yet been emulated'],
  ['any 501, whatever its code', s3Error('Unknown', 501), 'Unknown (HTTP 501): m'],
  ['an UnsupportedOperation code on a 400', s3Error('UnsupportedOperation', 400), 'UnsupportedOperation (HTTP 400): m'],
  ['NotImplemented without a status', Object.assign(new Error('not here'), { name: 'NotImplemented' }), 'NotImplemented: not here'],
])('%s → fall back', (_name, error, reason) => {
  expect(unsupportedOperationReason(error)).toBe(reason);
});

test.each([
  ['500 InternalError', s3Error('InternalError', 500)],
  ['403 AccessDenied', s3Error('AccessDenied', 403)],
  ['400 InvalidRequest (a real refusal of this object)', s3Error('InvalidRequest', 400)],
  ['a network error', Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })],
])('%s → no fallback', (_name, error) => {
  expect(unsupportedOperationReason(error)).toBeUndefined();
});
