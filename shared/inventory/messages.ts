// The audit-queue messages of the inventory tier. A sweep that finds a report sends one message per
// data file (inventoryFileMessages); a worker audits a bounded slice of that file's rows with
// inventoryScan({ bucket, manifestKey, files: [file] }), streaming, in bounded memory, and sends a
// continuation message (fromRow) for the rest (shared/audit/inventory-file-audit.ts). The manifest
// is read again by the worker (one small GET, checksum verified) rather than trusted from the
// message. When the last file of a report is done, the worker that finished it sends one
// reconcile message, which plans key ranges and sends one reconcile message per range: removing
// what the report no longer lists needs the whole report, but no one message holds all its keys.
import { z } from 'zod';
import type { InventoryReport } from './source.ts';

export const INVENTORY_FILE_MESSAGE_KIND = 'inventory-file';
export const INVENTORY_RECONCILE_MESSAGE_KIND = 'inventory-reconcile';

const destination = z.strictObject({ bucket: z.string().min(3), prefix: z.string() });
const manifestKey = z.string().endsWith('/manifest.json');

export const InventoryFileMessageSchema = z.strictObject({
  kind: z.literal(INVENTORY_FILE_MESSAGE_KIND),
  bucket: z.string().min(3),
  destination,
  manifestKey,
  file: z.strictObject({ key: z.string().min(1), size: z.number().int().nonnegative(), md5: z.string().regex(/^[0-9a-f]{32}$/) }),
  /**
   * A continuation: the row of the file this message was sent to start from (the table's
   * checkpoint is the truth; a delivery that finds a continuation already sent past it stops).
   */
  fromRow: z.number().int().positive().optional(),
});
export type InventoryFileMessage = z.infer<typeof InventoryFileMessageSchema>;

export const InventoryReconcileMessageSchema = z.strictObject({
  kind: z.literal(INVENTORY_RECONCILE_MESSAGE_KIND),
  bucket: z.string().min(3),
  destination,
  manifestKey,
  /** One key range of the report (shared/inventory/key-ranges.ts); absent: the message that plans the ranges and sends one message each. */
  partition: z
    .strictObject({ index: z.number().int().nonnegative(), of: z.number().int().positive(), from: z.string().min(1).optional(), to: z.string().min(1).optional() })
    .optional(),
});
export type InventoryReconcileMessage = z.infer<typeof InventoryReconcileMessageSchema>;

export function inventoryFileMessages(report: InventoryReport): InventoryFileMessage[] {
  return report.manifest.files.map((file) => ({
    kind: INVENTORY_FILE_MESSAGE_KIND,
    bucket: report.manifest.sourceBucket,
    destination: { bucket: report.destination.bucket, prefix: report.destination.prefix },
    manifestKey: report.location.key,
    file: { key: file.key, size: file.size, md5: file.md5 },
  }));
}

export function inventoryReconcileMessage(
  of: Pick<InventoryFileMessage, 'bucket' | 'destination' | 'manifestKey'>,
  partition?: NonNullable<InventoryReconcileMessage['partition']>,
): InventoryReconcileMessage {
  return { kind: INVENTORY_RECONCILE_MESSAGE_KIND, bucket: of.bucket, destination: of.destination, manifestKey: of.manifestKey, ...(partition ? { partition } : {}) };
}

/** The same data file, from row `fromRow` on (the checkpoint just written). */
export function inventoryContinuationMessage(of: InventoryFileMessage, fromRow: number): InventoryFileMessage {
  return { ...of, fromRow };
}
