// patches/kms_cancel_deletion.py: CancelKeyDeletion refuses a key that is not pending deletion
// (answers as LocalStack's AWS-validated KMS gives them; moto and ministack accept any key).
import { CancelKeyDeletionCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { expect, test } from 'vitest';
import { awsError } from './helpers.ts';

const kms = new KMSClient({});

test('an enabled key is refused with KMSInvalidStateException and stays enabled; a pending one becomes Disabled, once', async () => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'cancel-deletion fidelity' }));
  const KeyId = KeyMetadata!.KeyId!;
  expect(await awsError(kms.send(new CancelKeyDeletionCommand({ KeyId })))).toMatchObject({ name: 'KMSInvalidStateException', status: 400 });
  expect((await kms.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata?.KeyState).toBe('Enabled');

  await kms.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 }));
  await kms.send(new CancelKeyDeletionCommand({ KeyId }));
  expect((await kms.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata?.KeyState).toBe('Disabled');
  // A second cancellation (a retry whose first answer was lost) finds the key Disabled.
  expect(await awsError(kms.send(new CancelKeyDeletionCommand({ KeyId })))).toMatchObject({ name: 'DisabledException', status: 400 });
});
