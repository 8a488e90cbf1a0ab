// Paths the emulator cannot produce (moto enforces no IAM or key policies): the real inspectors and
// real SDK clients, with a middleware at the client boundary answering as AWS does, in the SDK's own
// exception shapes.
import { KMSClient, KMSServiceException, NotFoundException } from '@aws-sdk/client-kms';
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { Pluggable } from '@smithy/types';
import { expect, test } from 'vitest';
import { KmsKeyInspector } from '../../shared/inspect/key-inspector.ts';
import { S3ObjectInspector } from '../../shared/inspect/object-inspector.ts';

const OTHER_ACCOUNT_KEY = 'arn:aws:kms:us-east-1:999999999999:key/44444444-4444-4444-4444-444444444444';
const offline = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };

function answering<C extends KMSClient | S3Client>(client: C, answer: (commandName: string) => unknown): { client: C; calls: string[] } {
  const calls: string[] = [];
  const plugin: Pluggable<object, object> = {
    applyToStack(stack) {
      stack.add(
        (_next, context) => async () => {
          calls.push(context.commandName ?? '');
          const result = answer(context.commandName ?? '');
          if (result instanceof Error) throw result;
          return { output: { $metadata: { httpStatusCode: 200 }, ...(result as object) }, response: {} };
        },
        { step: 'initialize', name: 'recordedAnswer' },
      );
    },
  };
  (client.middlewareStack as unknown as { use(p: Pluggable<object, object>): void }).use(plugin);
  return { client, calls };
}

// KMS's AccessDeniedException is not modelled in the SDK: it arrives as the service exception with that name.
const kmsAccessDenied = (message: string) =>
  new KMSServiceException({ name: 'AccessDeniedException', $fault: 'client', message, $metadata: { httpStatusCode: 400 } });

test('fake at the KMS client boundary: a key in another account that denies DescribeKey is recorded as access-denied, once', async () => {
  const { client, calls } = answering(new KMSClient(offline), () =>
    kmsAccessDenied(`User: arn:aws:iam::111122223333:role/auditor is not authorized to perform: kms:DescribeKey on resource: ${OTHER_ACCOUNT_KEY}`),
  );
  const inspector = new KmsKeyInspector(client);
  const lookups = await Promise.all(Array.from({ length: 10 }, () => inspector.lookup(OTHER_ACCOUNT_KEY)));
  expect(lookups[0]).toMatchObject({ status: 'access-denied', arn: OTHER_ACCOUNT_KEY });
  expect(lookups[0]).toHaveProperty('detail', expect.stringContaining('not authorized'));
  expect(calls).toEqual(['DescribeKeyCommand']);
});

test('fake at the KMS client boundary: a deleted key is recorded as not-found', async () => {
  const { client } = answering(new KMSClient(offline), () =>
    new NotFoundException({ message: `Key '${OTHER_ACCOUNT_KEY}' does not exist`, $metadata: { httpStatusCode: 400 } }),
  );
  expect(await new KmsKeyInspector(client).lookup(OTHER_ACCOUNT_KEY)).toMatchObject({ status: 'not-found' });
});

test('fake at the KMS client boundary: rotation status and aliases denied are unknown, not false or none', async () => {
  const { client, calls } = answering(new KMSClient(offline), (command) =>
    command === 'DescribeKeyCommand'
      ? { KeyMetadata: { KeyId: 'k', Arn: OTHER_ACCOUNT_KEY, KeyState: 'Enabled', KeyManager: 'CUSTOMER', AWSAccountId: '999999999999' } }
      : kmsAccessDenied(`not authorized to perform: kms:${command.replace(/Command$/, '')}`),
  );
  const lookup = await new KmsKeyInspector(client).lookup(OTHER_ACCOUNT_KEY);
  expect(lookup).toMatchObject({ status: 'described', accountId: '999999999999', state: 'Enabled' });
  expect(lookup).not.toHaveProperty('rotationEnabled');
  expect(lookup).not.toHaveProperty('aliases');
  expect(calls).toEqual(['DescribeKeyCommand', 'ListAliasesCommand', 'GetKeyRotationStatusCommand']);
});

test('fake at the S3 client boundary: HeadObject 403 (no body, as AWS answers HEAD) is object-access-denied', async () => {
  const { client } = answering(new S3Client(offline), () =>
    new S3ServiceException({ name: 'Forbidden', $fault: 'client', message: 'Forbidden', $metadata: { httpStatusCode: 403 } }),
  );
  const inspection = await new S3ObjectInspector(client).inspect('b', { key: 'k', size: 3 });
  expect(inspection).toMatchObject({ status: 'unreadable', reason: 'object-access-denied', key: 'k' });
});

test('fake at the S3 client boundary: a 503 after the SDK retries is object-unreadable with the cause', async () => {
  const { client } = answering(new S3Client(offline), () =>
    new S3ServiceException({ name: 'SlowDown', $fault: 'server', message: 'Please reduce your request rate.', $metadata: { httpStatusCode: 503 } }),
  );
  const inspection = await new S3ObjectInspector(client).inspect('b', { key: 'k', size: 3 });
  expect(inspection).toMatchObject({ status: 'unreadable', reason: 'object-unreadable' });
  expect(inspection).toHaveProperty('detail', expect.stringContaining('SlowDown (HTTP 503)'));
});
