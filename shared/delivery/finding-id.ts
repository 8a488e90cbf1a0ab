// One finding id per object, shared by Security Hub imports, the ASFF-style id and the OCSF export.
import { createHash } from 'node:crypto';

/** `sseguard/<bucket>/<key>` (per version for a noncurrent one), hashed when it would pass 512 characters. */
export function objectFindingId(bucket: string, key: string, versionId?: string): string {
  const plain = `sseguard/${bucket}/${key}${versionId ? `#${versionId}` : ''}`;
  return plain.length <= 512 ? plain : `sseguard/${bucket}/sha256:${createHash('sha256').update(`${key}${versionId ? `#${versionId}` : ''}`).digest('hex')}`;
}
