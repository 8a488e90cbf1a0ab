// The audit-queue message of the inventory tier: one data file of one report. A sweep that finds a
// report sends one message per data file (inventoryFileMessages); a worker audits that file's rows
// with inventoryScan({ bucket, manifestKey, files: [file] }), streaming, in bounded memory. The
// manifest is read again by the worker (one small GET, checksum verified) rather than trusted from
// the message.
import { z } from 'zod';
import type { InventoryReport } from './source.ts';

export const InventoryFileMessageSchema = z.strictObject({
  kind: z.literal('inventory-file'),
  bucket: z.string().min(3),
  destination: z.strictObject({ bucket: z.string().min(3), prefix: z.string() }),
  manifestKey: z.string().endsWith('/manifest.json'),
  file: z.strictObject({ key: z.string().min(1), size: z.number().int().nonnegative(), md5: z.string().regex(/^[0-9a-f]{32}$/) }),
});
export type InventoryFileMessage = z.infer<typeof InventoryFileMessageSchema>;

export function inventoryFileMessages(report: InventoryReport): InventoryFileMessage[] {
  return report.manifest.files.map((file) => ({
    kind: 'inventory-file',
    bucket: report.manifest.sourceBucket,
    destination: { bucket: report.destination.bucket, prefix: report.destination.prefix },
    manifestKey: report.location.key,
    file: { key: file.key, size: file.size, md5: file.md5 },
  }));
}
