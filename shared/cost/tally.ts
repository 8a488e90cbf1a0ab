// Objects and bytes of an inventory by encryption mode and KMS key, counted in one pass over the rows
// in constant memory (the prefix set is capped). Pure.
import type { EncryptionMode } from '../domain/encryption.ts';
import { MODE_OF_STATUS, type InventoryRow } from '../inventory/row.ts';

export const MULTIPART_COPY_THRESHOLD = 5 * 1024 ** 3;
/** Distinct top-level prefixes counted exactly up to this many; beyond it the count is a floor. */
export const PREFIX_CAP = 10_000;

export type TallyMode = EncryptionMode | 'unknown';

export interface Count {
  objects: number;
  bytes: number;
}

export interface ModeTally {
  current: Count;
  noncurrent: Count;
  /** Current objects above 5 GiB (a copy of them is a multipart copy). */
  large: Count & { parts: number };
}

export interface InventoryTally {
  objects: number;
  bytes: number;
  deleteMarkers: number;
  byMode: Partial<Record<TallyMode, ModeTally>>;
  /** By KMS key ARN for KMS objects whose key is known (a recorded finding); `unknown` otherwise. */
  byKey: Record<string, Count>;
  /** Distinct first path segments ("" for keys without a "/"): a floor for S3's partitions. */
  prefixes: number;
  prefixesCapped: boolean;
}

const zero = (): ModeTally => ({ current: { objects: 0, bytes: 0 }, noncurrent: { objects: 0, bytes: 0 }, large: { objects: 0, bytes: 0, parts: 0 } });

export interface Tallier {
  add(row: InventoryRow): void;
  result(): InventoryTally;
}

/** `keyOf` gives the KMS key ARN a KMS object is recorded with, when the caller knows it. */
export function tallier(options: { partBytes: number; keyOf?: (row: InventoryRow) => string | undefined }): Tallier {
  const tally: InventoryTally = { objects: 0, bytes: 0, deleteMarkers: 0, byMode: {}, byKey: {}, prefixes: 0, prefixesCapped: false };
  const prefixes = new Set<string>();
  return {
    add(row) {
      if (row.isDeleteMarker) {
        tally.deleteMarkers += 1;
        return;
      }
      const size = row.size ?? 0;
      const mode: TallyMode = row.encryptionStatus ? MODE_OF_STATUS[row.encryptionStatus] : 'unknown';
      const m = (tally.byMode[mode] ??= zero());
      const bucket = row.isLatest === false ? m.noncurrent : m.current;
      bucket.objects += 1;
      bucket.bytes += size;
      if (row.isLatest !== false && size > MULTIPART_COPY_THRESHOLD) {
        m.large.objects += 1;
        m.large.bytes += size;
        m.large.parts += Math.ceil(size / options.partBytes);
      }
      if (mode === 'sse-kms' || mode === 'dsse-kms') {
        const key = options.keyOf?.(row) ?? 'unknown';
        const k = (tally.byKey[key] ??= { objects: 0, bytes: 0 });
        k.objects += 1;
        k.bytes += size;
      }
      tally.objects += 1;
      tally.bytes += size;
      if (!tally.prefixesCapped) {
        const slash = row.key.indexOf('/');
        prefixes.add(slash < 0 ? '' : row.key.slice(0, slash));
        if (prefixes.size >= PREFIX_CAP) tally.prefixesCapped = true;
      }
    },
    result() {
      return { ...tally, prefixes: Math.max(1, prefixes.size) };
    },
  };
}
