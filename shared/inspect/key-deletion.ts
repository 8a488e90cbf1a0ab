// KMS adapter for the one change sseguard may make to a key: cancelling its scheduled deletion while
// objects still depend on it (policy keyDeletion.cancelWhileObjectsDepend). Only the key-events
// handler builds it, so only its role may call CancelKeyDeletion.
import { CancelKeyDeletionCommand, type KMSClient } from '@aws-sdk/client-kms';

export interface KeyDeletionCanceller {
  /** Cancels a scheduled deletion; KMS leaves the key Disabled (AWS: "the key state is Disabled"). */
  cancelDeletion(keyId: string): Promise<void>;
}

export class KmsKeyDeletionCanceller implements KeyDeletionCanceller {
  constructor(private readonly kms: KMSClient) {}

  async cancelDeletion(keyId: string): Promise<void> {
    // The key id, not its ARN: CancelKeyDeletion works on the caller's own keys only.
    await this.kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
  }
}
