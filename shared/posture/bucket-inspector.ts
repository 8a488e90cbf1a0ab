// S3 adapter for bucket posture facts: GetBucketEncryption (default encryption, bucket key, blocked
// encryption types), GetBucketPolicy (NoSuchBucketPolicy = no policy), and the default's KMS key.
import { GetBucketEncryptionCommand, GetBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BucketRegions } from '../aws/bucket-regions.ts';
import { errorFacts } from '../aws/errors.ts';
import type { KeyInspector } from '../inspect/key-inspector-port.ts';
import { BucketListingError } from '../inspect/object-inspector-port.ts';
import { partitionOf } from './bucket-policy.ts';
import { defaultEncryptionFrom, type BucketFacts, type BucketPolicyRead, type DefaultEncryptionRead } from './facts.ts';
import type { EncryptionConfiguration } from '../domain/posture-change.ts';

/** The AWS managed key S3 uses for aws:kms defaults that name no key. */
const AWS_MANAGED_S3_KEY = 'alias/aws/s3';

export interface BucketInspector {
  inspect(bucket: string): Promise<BucketFacts>;
}

export class S3BucketInspector implements BucketInspector {
  constructor(
    private readonly s3: S3Client,
    private readonly keys: KeyInspector,
    private readonly region?: string,
    /** The bucket's Region: where a default key named without one (key id, alias/aws/s3) lives. */
    private readonly bucketRegions?: Pick<BucketRegions, 'regionOf'>,
  ) {}

  async inspect(bucket: string): Promise<BucketFacts> {
    const [defaultEncryption, policy] = await Promise.all([this.readEncryption(bucket), this.readPolicy(bucket)]);
    const kms = defaultEncryption.status === 'configured' && (defaultEncryption.mode === 'sse-kms' || defaultEncryption.mode === 'dsse-kms');
    const bucketRegion = kms ? await this.bucketRegions?.regionOf(bucket) : undefined;
    const defaultKey = kms ? await this.keys.lookup(defaultEncryption.kmsKeyRef ?? AWS_MANAGED_S3_KEY, bucketRegion) : undefined;
    return { bucket, partition: partitionOf(this.region), defaultEncryption, policy, ...(defaultKey ? { defaultKey } : {}) };
  }

  /** Reads the raw configuration (for rollback records) without interpreting it. */
  async readConfiguration(bucket: string): Promise<EncryptionConfiguration | undefined> {
    try {
      const { ServerSideEncryptionConfiguration } = await this.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
      return plainConfiguration(ServerSideEncryptionConfiguration);
    } catch (error) {
      const { name, status, message } = errorFacts(error);
      if (name === 'ServerSideEncryptionConfigurationNotFoundError') return undefined;
      throw noBucket(bucket, name, status, message) ?? error;
    }
  }

  private async readEncryption(bucket: string): Promise<DefaultEncryptionRead> {
    try {
      const configuration = await this.readConfiguration(bucket);
      return configuration ? defaultEncryptionFrom(configuration) : { status: 'none' };
    } catch (error) {
      if (error instanceof BucketListingError) throw error;
      const { name, status, message } = errorFacts(error);
      return { status: 'unreadable', detail: `GetBucketEncryption failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${message}` };
    }
  }

  async readPolicy(bucket: string): Promise<BucketPolicyRead> {
    try {
      const { Policy } = await this.s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
      return Policy ? { status: 'read', text: Policy } : { status: 'none' };
    } catch (error) {
      const { name, status, message } = errorFacts(error);
      if (name === 'NoSuchBucketPolicy') return { status: 'none' };
      const missing = noBucket(bucket, name, status, message);
      if (missing) throw missing;
      return { status: 'unreadable', detail: `GetBucketPolicy failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${message}` };
    }
  }
}

function noBucket(bucket: string, name: string, status: number | undefined, message: string): BucketListingError | undefined {
  if (name === 'NoSuchBucket' || (status === 404 && name !== 'NoSuchBucketPolicy' && name !== 'ServerSideEncryptionConfigurationNotFoundError')) {
    return new BucketListingError(bucket, name, `bucket ${bucket} does not exist (${message})`);
  }
  return undefined;
}

/** Copies the SDK's configuration into plain data, keeping only what S3 returned. */
function plainConfiguration(sdk: { Rules?: unknown[] } | undefined): EncryptionConfiguration {
  type SdkRule = {
    ApplyServerSideEncryptionByDefault?: { SSEAlgorithm?: string; KMSMasterKeyID?: string };
    BucketKeyEnabled?: boolean;
    BlockedEncryptionTypes?: { EncryptionType?: string[] };
  };
  return {
    Rules: ((sdk?.Rules ?? []) as SdkRule[]).map((rule) => ({
      ...(rule.ApplyServerSideEncryptionByDefault?.SSEAlgorithm
        ? {
            ApplyServerSideEncryptionByDefault: {
              SSEAlgorithm: rule.ApplyServerSideEncryptionByDefault.SSEAlgorithm,
              ...(rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID
                ? { KMSMasterKeyID: rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID }
                : {}),
            },
          }
        : {}),
      ...(rule.BucketKeyEnabled === undefined ? {} : { BucketKeyEnabled: rule.BucketKeyEnabled }),
      ...(rule.BlockedEncryptionTypes?.EncryptionType
        ? { BlockedEncryptionTypes: { EncryptionType: [...rule.BlockedEncryptionTypes.EncryptionType] } }
        : {}),
    })),
  };
}
