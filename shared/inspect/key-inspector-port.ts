// The key inspector port: what the audit and the policy loader need to know about KMS keys.
// KmsKeyInspector (key-inspector.ts) is its adapter.
import type { KeyLookup } from '../domain/encryption.ts';

export interface KeyInspector {
  /**
   * What KMS says of a key, asked in the Region its ARN names; `region`: where a reference naming no
   * Region (a key id, `alias/NAME`) is asked, by default the process's Region.
   */
  lookup(keyRef: string, region?: string): Promise<KeyLookup>;
  /** The key ARN a reference (alias, alias ARN, key id, key ARN) stands for, or a clear error. */
  arnOf(keyRef: string, region?: string): Promise<string>;
  /** Forgets what a caching inspector knows of a key (a key event says its state changed). */
  forget?(keyRef: string): void;
}
