// Seeds the benchmark bucket: N small objects in mixed encryption modes under two prefixes, the
// first holding a tenth of them (the memory-flatness scan reads that prefix alone).
import { createHash, randomBytes } from 'node:crypto';
import { CreateKeyCommand, DisableKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import type { AwsClients } from '#shared/aws/clients.ts';

export const TENTH_PREFIX = 'tenth/';
export const REST_PREFIX = 'rest/';
const CUSTOMER_KEYS = 4;

export type Mode = 'sse-s3' | 'sse-kms' | 'dsse-kms' | 'sse-kms-aws-managed' | 'sse-c' | 'unencrypted';

export interface SeedResult {
  objects: number;
  tenthObjects: number;
  byMode: Partial<Record<Mode, number>>;
  /** Customer keys created (the last one is disabled after its objects were written). */
  customerKeys: number;
  /** KMS keys behind the objects: the customer keys plus the AWS-managed aws/s3 key, if used. */
  distinctKmsKeys: number;
  seconds: number;
  /** The customer keys' ARNs, in creation order (the last one disabled). */
  keyArns: string[];
}

/** Deterministic mix, per 50 objects: 18 SSE-S3, 18 SSE-KMS, 6 DSSE-KMS, 6 aws:kms with aws/s3, 2 SSE-C. */
export function scanBenchMode(index: number): Mode {
  const slot = index % 50;
  if (slot < 18) return 'sse-s3';
  if (slot < 36) return 'sse-kms';
  if (slot < 42) return 'dsse-kms';
  if (slot < 48) return 'sse-kms-aws-managed';
  return 'sse-c';
}

const customerKey = randomBytes(32);
const sseC = {
  SSECustomerAlgorithm: 'AES256',
  SSECustomerKey: customerKey.toString('base64'),
  SSECustomerKeyMD5: createHash('md5').update(customerKey).digest('base64'),
};

/** Spreads KMS objects over the customer keys independently of the mode slot. */
const customerKeyOf = (index: number, keyArns: string[]): string => keyArns[(index + Math.floor(index / 50)) % keyArns.length]!;

function encryptionParameters(mode: Mode, keyArn: string, index: number): Partial<PutObjectCommandInput> {
  switch (mode) {
    case 'sse-s3':
      return { ServerSideEncryption: 'AES256' };
    case 'sse-kms':
      return { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn, BucketKeyEnabled: index % 2 === 0 };
    case 'dsse-kms':
      return { ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: keyArn };
    case 'sse-kms-aws-managed':
      return { ServerSideEncryption: 'aws:kms' };
    case 'sse-c':
      return sseC;
    case 'unencrypted':
      // No SSE header, and the emulator's buckets have no default encryption: NOT-SSE.
      return {};
  }
}

/** The key of object `index`: the first tenth (rounded down) lives under TENTH_PREFIX. */
export function objectKey(index: number, total: number): string {
  const tenth = Math.floor(total / 10);
  const name = String(index).padStart(7, '0');
  return index < tenth ? `${TENTH_PREFIX}${name}.dat` : `${REST_PREFIX}${name}.dat`;
}

async function inParallel(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export async function seedBucket(
  clients: AwsClients,
  options: { bucket: string; objects: number; concurrency: number; onProgress?: (done: number) => void; modeOf?: (index: number) => Mode; objectKey?: (index: number) => string },
): Promise<SeedResult> {
  const started = performance.now();
  const keys: { id: string; arn: string }[] = [];
  for (let i = 0; i < CUSTOMER_KEYS; i++) {
    const { KeyMetadata } = await clients.kms.send(new CreateKeyCommand({ Description: `sseguard bench key ${i}` }));
    if (!KeyMetadata?.KeyId || !KeyMetadata.Arn) throw new Error('CreateKey returned no key');
    keys.push({ id: KeyMetadata.KeyId, arn: KeyMetadata.Arn });
  }
  await clients.s3.send(new CreateBucketCommand({ Bucket: options.bucket }));

  const modeOf = options.modeOf ?? scanBenchMode;
  const byMode: Partial<Record<Mode, number>> = {};
  const arns = keys.map((k) => k.arn);
  const usedKeys = new Set<string>();
  let done = 0;
  const put = async (index: number) => {
    const mode = modeOf(index);
    byMode[mode] = (byMode[mode] ?? 0) + 1;
    const keyArn = customerKeyOf(index, arns);
    if (mode === 'sse-kms' || mode === 'dsse-kms') usedKeys.add(keyArn);
    if (mode === 'sse-kms-aws-managed') usedKeys.add('alias/aws/s3');
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: options.bucket,
        Key: options.objectKey ? options.objectKey(index) : objectKey(index, options.objects),
        Body: `bench object ${index}\n`,
        ...encryptionParameters(mode, keyArn, index),
      }),
    );
    done += 1;
    if (done % 1000 === 0) options.onProgress?.(done);
  };
  // The emulator creates the AWS-managed aws/s3 key on first use without a lock: concurrent first
  // uses each create one. Writing one such object alone first gives every object the same key.
  const firstManaged = Array.from({ length: options.objects }, (_, i) => i).find((i) => modeOf(i) === 'sse-kms-aws-managed');
  if (firstManaged !== undefined) await put(firstManaged);
  const rest = Array.from({ length: options.objects }, (_, i) => i).filter((i) => i !== firstManaged);
  await inParallel(rest.length, options.concurrency, (n) => put(rest[n]!));

  // A key goes bad after its objects were written (S3 refuses to encrypt with a disabled key).
  // moto's DisableKey wants the key id, not the ARN.
  await clients.kms.send(new DisableKeyCommand({ KeyId: keys[CUSTOMER_KEYS - 1]!.id }));

  return {
    objects: options.objects,
    tenthObjects: Math.floor(options.objects / 10),
    byMode,
    customerKeys: CUSTOMER_KEYS,
    distinctKmsKeys: usedKeys.size,
    seconds: (performance.now() - started) / 1000,
    keyArns: arns,
  };
}
