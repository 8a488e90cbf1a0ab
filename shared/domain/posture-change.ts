// A change to a bucket's own encryption posture, as plain data: posture/remediate.ts plans and applies
// it, the findings store records it (and its outbox event), `sseguard rollback` restores `before`.
import type { ReasonCode } from './verdict.ts';

/**
 * A default-encryption configuration in the wire shape of Get/PutBucketEncryption, so that the
 * value read before a change can be written back unchanged (rollback) or printed for the AWS CLI.
 */
export interface EncryptionConfiguration {
  Rules: {
    ApplyServerSideEncryptionByDefault?: { SSEAlgorithm: string; KMSMasterKeyID?: string };
    BucketKeyEnabled?: boolean;
    BlockedEncryptionTypes?: { EncryptionType?: string[] };
  }[];
}

export type PostureChangeKind = 'default-encryption' | 'bucket-policy';

/** A change sseguard plans or made; `before` null means the bucket had no such configuration. */
export type PlannedChange =
  | { kind: 'default-encryption'; before: EncryptionConfiguration | null; after: EncryptionConfiguration; fixes: ReasonCode[] }
  | { kind: 'bucket-policy'; before: string | null; after: string; fixes: ReasonCode[]; diff: string };

export type PostureChange = PlannedChange & { id: string; bucket: string; at: string };
