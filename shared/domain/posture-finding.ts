// What sseguard concluded about a bucket's own encryption posture. Plain data: no SDK types.
import type { Reason, Verdict } from './verdict.ts';

export type Enforcement = 'enforced' | 'not-enforced' | 'unknown';

/** Whether the bucket refuses SSE-C uploads (BlockedEncryptionTypes). */
export type SseCBlocking = 'blocked' | 'allowed' | 'unknown';

/** What sseguard concluded about a bucket: stored, printed and served like an object finding. */
export interface PostureFinding {
  bucket: string;
  verdict: Verdict;
  reasons: Reason[];
  ruleIndex?: number;
  /** The policy asks for the bucket's posture to be fixed (and a fix is possible). */
  remediate: boolean;
  auditedAt: string;
  defaultEncryption: {
    status: 'configured' | 'none' | 'unreadable';
    /** sse-s3 | sse-kms | dsse-kms, or S3's algorithm when sseguard does not know it. */
    mode?: string;
    kmsKeyArn?: string;
    kmsKeyState?: string;
    bucketKeyEnabled?: boolean;
  };
  sseC: SseCBlocking;
  policy: 'none' | 'read' | 'unreadable' | 'invalid';
  tls: Enforcement;
  unencryptedPuts: 'denied' | 'allowed' | 'unknown';
  /** Statements that nearly enforce TLS or encryption, and why they do not count. */
  notes: string[];
}
