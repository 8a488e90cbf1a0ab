// Shared helpers for the emulator fidelity tests: clients, fresh buckets, captured AWS errors.
import { createHash, randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { createAwsClients } from '../../shared/aws/clients.ts';

export const { s3, kms } = createAwsClients();

let counter = 0;
export async function newBucket(prefix = 'b'): Promise<string> {
  counter += 1;
  const name = `${prefix}-${process.pid}-${counter}-${randomBytes(3).toString('hex')}`.toLowerCase();
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

export async function newKmsKey(): Promise<{ keyId: string; arn: string }> {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'sseguard emulator test' }));
  return { keyId: KeyMetadata!.KeyId!, arn: KeyMetadata!.Arn! };
}

export interface CapturedError {
  name: string;
  status: number | undefined;
  message: string;
}

/** Runs an SDK call that must fail and returns the AWS error code (SDK `name`) and HTTP status. */
export async function awsError(call: Promise<unknown>): Promise<CapturedError> {
  try {
    await call;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the AWS call to fail, it succeeded');
}

/** An SSE-C key as the SDK parameters take it (base64 key, base64 MD5 of the raw key). */
export function customerKey(): { key: string; md5: string } {
  const raw = randomBytes(32);
  return { key: raw.toString('base64'), md5: createHash('md5').update(raw).digest('base64') };
}
