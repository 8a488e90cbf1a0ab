// Recognises objects written by the Amazon S3 Encryption Client from their user metadata, as
// HeadObject returns it (the SDK's Metadata map, without the `x-amz-meta-` prefix). Format rules
// from the S3EC specification (s3-encryption/data-format/content-metadata.md):
//   v1: x-amz-key + x-amz-iv (content is AES/CBC/PKCS5Padding; no x-amz-cek-alg)
//   v2: x-amz-key-v2 + x-amz-iv, with x-amz-cek-alg, x-amz-wrap-alg, x-amz-matdesc, x-amz-tag-len
//   v3: x-amz-3 + x-amz-d + x-amz-i, with compressed x-amz-c, x-amz-w, x-amz-m, x-amz-t
// Objects whose envelope lives in an instruction file carry none of these: they are not seen here.
import type { ClientSideFacts, ServerSideMode } from './encryption.ts';

/** The envelope fields, without the server-side layer (which HeadObject's SSE headers give). */
export type ClientSideEnvelope = Omit<ClientSideFacts, 'serverSideMode'>;

const V1_CONTENT_ALGORITHM = 'AES/CBC/PKCS5Padding';
// v3 stores the algorithm suite id and a two-digit wrapping code.
const V3_CONTENT_ALGORITHMS: Record<string, string> = { '115': 'ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY' };
const V3_WRAP_ALGORITHMS: Record<string, string> = { '02': 'AES/GCM', '12': 'kms+context', '22': 'RSA-OAEP-SHA1' };

/** The envelope the metadata describes, or undefined when the object is not client-side encrypted. */
export function clientSideEnvelope(metadata: Record<string, string> | undefined): ClientSideEnvelope | undefined {
  if (!metadata) return undefined;
  // S3 lower-cases user metadata names; a copy made by another tool may not.
  const meta = new Map(Object.entries(metadata).map(([name, value]) => [name.toLowerCase(), value]));
  const v1 = meta.has('x-amz-key') && meta.has('x-amz-iv');
  const v2 = meta.has('x-amz-key-v2') && meta.has('x-amz-iv');
  const v3 = meta.has('x-amz-3') && meta.has('x-amz-d') && meta.has('x-amz-i');
  const formats = [v1, v2, v3].filter(Boolean).length;
  if (formats === 0) return undefined;

  if (formats > 1) return { envelope: 'mixed', contentAlgorithm: 'unknown' };
  if (v3) {
    const code = meta.get('x-amz-c');
    const wrap = meta.get('x-amz-w');
    const description = meta.get('x-amz-m') ?? meta.get('x-amz-t');
    return {
      envelope: 'v3',
      contentAlgorithm: code === undefined ? 'unknown' : (V3_CONTENT_ALGORITHMS[code] ?? code),
      ...(wrap === undefined ? {} : { wrapAlgorithm: V3_WRAP_ALGORITHMS[wrap] ?? wrap }),
      ...(description === undefined ? {} : { materialDescription: description }),
    };
  }
  const description = meta.get('x-amz-matdesc');
  const wrap = meta.get('x-amz-wrap-alg');
  const wrappingKmsKeyId = description === undefined ? undefined : kmsKeyIdIn(description);
  return {
    envelope: v2 ? 'v2' : 'v1',
    contentAlgorithm: meta.get('x-amz-cek-alg') ?? (v1 ? V1_CONTENT_ALGORITHM : 'unknown'),
    ...(wrap === undefined ? {} : { wrapAlgorithm: wrap }),
    ...(description === undefined ? {} : { materialDescription: description }),
    ...(wrappingKmsKeyId ? { wrappingKmsKeyId } : {}),
  };
}

/** The S3EC's KMS materials record the wrapping key as `kms_cmk_id` in the material description. */
function kmsKeyIdIn(description: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(description);
    if (parsed && typeof parsed === 'object' && 'kms_cmk_id' in parsed) {
      const id = (parsed as { kms_cmk_id: unknown }).kms_cmk_id;
      return typeof id === 'string' && id ? id : undefined;
    }
  } catch {
    // Not JSON (or S3's double encoding): the description is kept as text, the key id is unknown.
  }
  return undefined;
}

export const withServerSideLayer = (envelope: ClientSideEnvelope, serverSideMode: ServerSideMode): ClientSideFacts => ({
  ...envelope,
  serverSideMode,
});
