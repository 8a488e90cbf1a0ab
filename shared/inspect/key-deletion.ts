// KMS adapter for the one change sseguard may make to a key: cancelling its scheduled deletion while
// objects still depend on it (policy keyDeletion.cancelWhileObjectsDepend). Only the key-events
// handler builds it, so only its role may call CancelKeyDeletion.
import { CancelKeyDeletionCommand, type KMSClient } from '@aws-sdk/client-kms';
import { kmsRegionOf } from '../aws/arn.ts';
import type { KmsByRegion } from './key-inspector.ts';

export interface KeyDeletionCanceller {
  /** Cancels a scheduled deletion; KMS leaves the key Disabled (AWS: "the key state is Disabled"). */
  cancelDeletion(keyId: string, keyArn?: string): Promise<void>;
}

export class KmsKeyDeletionCanceller implements KeyDeletionCanceller {
  constructor(private readonly kms: KMSClient | KmsByRegion) {}

  async cancelDeletion(keyId: string, keyArn?: string): Promise<void> {
    // Sent to the Region the key's ARN names (the process's Region knows no key of another).
    const region = keyArn ? kmsRegionOf(keyArn) : undefined;
    const kms = 'kmsFor' in this.kms ? this.kms.kmsFor(region ?? this.kms.home) : this.kms;
    // The key id, not its ARN: CancelKeyDeletion works on the caller's own keys only.
    await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
  }
}
