// One fix as a person reads it: `sse-s3 → sse-kms (alias/finance), bucket key on, ETag kept`.
// Pure: the report API serves it beside the structured before/after, so the dashboard (and any
// other client) shows the same words, never raw JSON.
//
//   part            shown when                                  words
//   modes           always                                      `<before> → <after>` (`?` if not recorded)
//   key             after is KMS-encrypted                      `(alias/…)`, else `(key/<id>)`
//   bucket key      after is KMS-encrypted                      `bucket key on|off`
//   ETag            both ETags recorded                         `ETag kept` | `ETag changed`
//   version         both version ids recorded and they differ   `new version`
//   no after        the fix did not change the object           `unchanged (<outcome>)`
import type { EncryptionSnapshot } from '../domain/encryption-snapshot.ts';

/** Alias names per key ARN, as recorded with the key facts. */
export type KeyAliases = Readonly<Record<string, readonly string[] | undefined>>;

/** A key as people name it: its aliases, or `key/<id>` when none is recorded. */
export function keyName(arn: string, aliases: KeyAliases = {}): string {
  const names = aliases[arn];
  if (names && names.length > 0) return names.join(', ');
  return arn.replace(/^arn:aws[a-z-]*:kms:[^:]+:\d+:key\//, 'key/');
}

const KMS_MODES: readonly string[] = ['sse-kms', 'dsse-kms'];

export function describeRemediation(record: { outcome?: string; before?: EncryptionSnapshot; after?: EncryptionSnapshot }, aliases: KeyAliases = {}): string {
  const before = record.before ?? {};
  const after = record.after;
  const from = before.mode ?? '?';
  if (!after) return `${from}, unchanged (${record.outcome ?? 'no change recorded'})`;
  const parts = [`${from} → ${after.mode ?? '?'}${after.kmsKeyArn && KMS_MODES.includes(after.mode ?? '') ? ` (${keyName(after.kmsKeyArn, aliases)})` : ''}`];
  if (KMS_MODES.includes(after.mode ?? '') && after.bucketKeyEnabled !== undefined) parts.push(`bucket key ${after.bucketKeyEnabled ? 'on' : 'off'}`);
  if (before.etag && after.etag) parts.push(before.etag === after.etag ? 'ETag kept' : 'ETag changed');
  if (before.versionId && after.versionId && before.versionId !== after.versionId) parts.push('new version');
  if (record.outcome && record.outcome !== 'fixed') parts.push(record.outcome);
  return parts.join(', ');
}
