// The policy as the evaluator reads it: every field filled in (policy-complete.ts), key references
// as written (Policy) or resolved to key ARNs (ResolvedPolicy, policy-keys.ts).
import type { ClientSideAcceptance, RequiredMode, TargetMode } from './policy-schema.ts';

/** What one rule (or the default) requires, with every field filled in. Key refs as written. */
export interface Requirement<KeyRef = string> {
  require: RequiredMode;
  kmsKeys?: KeyRef[];
  customerManagedKey: boolean;
  bucketKey: 'required' | 'optional';
  keyRotation: 'required' | 'optional';
  remediate: boolean;
  target?: { mode: TargetMode; kmsKey?: KeyRef; bucketKey: boolean };
  /** What the bucket itself must be; judged once per bucket (see postureRequirementFor). */
  posture: PostureRequirement<KeyRef>;
  /** How objects encrypted by the S3 Encryption Client are judged. */
  clientSide: ClientSideRequirement;
}

export interface BucketDefaultRequirement<KeyRef = string> {
  require: RequiredMode;
  kmsKeys?: KeyRef[];
  customerManagedKey: boolean;
  bucketKey: 'required' | 'optional';
}

export interface PostureRequirement<KeyRef = string> {
  /** Undefined: the bucket's default encryption is reported, not judged. */
  bucketDefault?: BucketDefaultRequirement<KeyRef>;
  /** The bucket policy denies every request made without TLS (aws:SecureTransport false). */
  requireTls: boolean;
  /** The bucket blocks SSE-C uploads (BlockedEncryptionTypes SSE-C). */
  blockSseC: boolean;
  /** The bucket policy denies PutObject without an x-amz-server-side-encryption header. */
  denyUnencryptedPuts: boolean;
}

export interface ClientSideRequirement {
  /**
   * allowed: accepted, and the server-side layer beneath must still meet the rule (the default:
   * the verdict is what it was before client-side encryption was recognised);
   * forbidden: noncompliant; sufficient: client-side encryption meets the rule by itself.
   */
  accept: ClientSideAcceptance;
  /** Content encryption algorithms accepted; undefined accepts any. */
  algorithms?: string[];
  /** Whether the server-side layer of such objects may be re-encrypted (never decrypted); default false. */
  remediateServerSide: boolean;
}

export interface Scope {
  bucket: string;
  prefix: string;
}

export interface Exemption extends Scope {
  reason: string;
  owner: string;
  /** The instant the exemption stops applying; a date alone means 00:00 UTC that day. */
  expires: Date;
}

export interface KeyDeletionPolicy {
  /**
   * When a key that recorded objects depend on is scheduled for deletion, call CancelKeyDeletion
   * (the key is then Disabled, its objects still at-risk until a person enables it). Default false:
   * sseguard reports and changes no key unless the policy says so.
   */
  cancelWhileObjectsDepend: boolean;
}

export interface Policy<KeyRef = string> {
  version: 1;
  default: Requirement<KeyRef>;
  rules: (Scope & Requirement<KeyRef>)[];
  exemptions: Exemption[];
  keyDeletion: KeyDeletionPolicy;
}

/** A policy whose KMS key references are all resolved to key ARNs. */
export type ResolvedPolicy = Policy<string> & { resolved: true };

export class PolicyError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid policy ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PolicyError';
  }
}
