// Credentials per member account against the emulator's STS: one AssumeRole per account however many
// clients ask, renewed before the session ends by the SDK clients themselves (a scan outlives a
// one-hour session), and a refusal named as the account's, never cached.
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { afterEach, expect, test, vi } from 'vitest';
import { createAccountClients } from '../../shared/aws/clients.ts';
import { AccountUnreachableError, assumedRoleCredentials, roleArnFor } from '../../shared/accounts/credentials.ts';
import { refusingAssumeRole } from '../support/organization.ts';

const MEMBER = '210987654321';

afterEach(() => {
  vi.useRealTimers();
});

test('the role ARN: a name in the account, or an ARN template with {partition} and {account}', () => {
  expect(roleArnFor(MEMBER, { roleName: 'sseguard-audit' })).toBe(`arn:aws:iam::${MEMBER}:role/sseguard-audit`);
  expect(roleArnFor(MEMBER, { roleName: 'arn:{partition}:iam::{account}:role/audit/sseguard', partition: 'aws-us-gov' })).toBe(`arn:aws-us-gov:iam::${MEMBER}:role/audit/sseguard`);
  expect(() => roleArnFor('12345', { roleName: 'sseguard-audit' })).toThrow(/12-digit/);
  expect(() => roleArnFor(MEMBER, { roleName: 'arn:aws:s3:::not-a-role' })).toThrow(/IAM role ARN/);
});

test('twenty concurrent clients of one account make one AssumeRole; the credentials act in that account', async () => {
  const sts = refusingAssumeRole('000000000000');
  const credentials = assumedRoleCredentials({ roleName: 'sseguard-audit' }, { sts });
  const provider = credentials.provider(MEMBER);
  const identities = await Promise.all(Array.from({ length: 20 }, () => provider()));
  expect(new Set(identities.map((i) => i.accessKeyId)).size).toBe(1);
  expect(identities[0]).toMatchObject({ accountId: MEMBER, expiration: expect.any(Date) });
  expect(sts.assumeRoleCalls).toEqual([`arn:aws:iam::${MEMBER}:role/sseguard-audit`]);
  const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  const asMember = new STSClient({ region: 'us-east-1', credentials: provider });
  expect((await asMember.send(new GetCallerIdentityCommand({}))).Account).toBe(MEMBER);
});

/** moto stamps Expiration with its own clock; the test moves the process's clock: sessions end an hour after the test's "now". */
function onTestClock(sts: STSClient): STSClient {
  sts.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const output = result.output as { Credentials?: { Expiration?: Date } };
      if (output.Credentials) output.Credentials.Expiration = new Date(Date.now() + 3_600_000);
      return result;
    },
    { step: 'initialize', name: 'testClockExpiration' },
  );
  return sts;
}

test('an S3 client given the provider renews the session by itself before it ends, once', async () => {
  const sts = onTestClock(refusingAssumeRole('000000000000'));
  const credentials = assumedRoleCredentials({ roleName: 'sseguard-audit', externalId: 'shared-secret' }, { sts });
  const { s3 } = createAccountClients({ region: 'us-east-1', credentials: credentials.provider(MEMBER) });
  await s3.send(new ListBucketsCommand({}));
  await s3.send(new ListBucketsCommand({}));
  expect(credentials.assumeCalls).toBe(1);
  // 56 minutes later the one-hour session has 4 minutes left: the next request renews it.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + 56 * 60_000);
  await s3.send(new ListBucketsCommand({}));
  await s3.send(new ListBucketsCommand({}));
  expect(credentials.assumeCalls).toBe(2);
});

test('a refused AssumeRole (STS boundary fake, AWS AccessDenied shape) names the account and the role, and is asked again next time', async () => {
  const sts = refusingAssumeRole(MEMBER);
  const credentials = assumedRoleCredentials({ roleName: 'sseguard-audit' }, { sts });
  const refusal = await credentials.assume(MEMBER).catch((error: unknown) => error);
  expect(refusal).toBeInstanceOf(AccountUnreachableError);
  expect(refusal).toMatchObject({ account: MEMBER, reason: expect.stringMatching(/cannot assume arn:aws:iam::210987654321:role\/sseguard-audit: AccessDenied/) });
  await credentials.assume(MEMBER).catch(() => undefined);
  expect(sts.assumeRoleCalls.length).toBe(2);
});
