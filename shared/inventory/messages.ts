// The audit-queue messages of the inventory tier. A sweep that finds a report sends one message per
// data file (inventoryFileMessages); a worker audits a bounded slice of that file's rows with
// inventoryScan({ bucket, manifestKey, files: [file] }), streaming, in bounded memory, and sends a
// continuation message (fromRow) for the rest (shared/audit/inventory-file-audit.ts). The manifest
// is read again by the worker (one small GET, checksum verified) rather than trusted from the
// message. When the last file of a report is done, the worker that finished it sends one
// reconcile message, which plans key ranges and sends one reconcile message per range: removing
// what the report no longer lists needs the whole report, but no one message holds all its keys.
// With an Athena diff (SSEGUARD_ATHENA_DIFF_TABLE) the sweep sends one `inventory-diff` message per
// report instead: it starts the diff query, polls it (delayed messages), then reads its result in
// slices (shared/audit/inventory-diff-sweep.ts); the data files are then sent with `recheckSince`,
// for the rolling re-check only.
import { z } from 'zod';
import type { InventoryReport } from './source.ts';

export const INVENTORY_FILE_MESSAGE_KIND = 'inventory-file';
export const INVENTORY_RECONCILE_MESSAGE_KIND = 'inventory-reconcile';
export const INVENTORY_DIFF_MESSAGE_KIND = 'inventory-diff';

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
  /**
   * Re-check only (the report is swept from its Athena diff): the file's rows are audited only
   * when their rolling re-check falls in (recheckSince, report date]; no previous report is read.
   * recheckSince is the date of the last verified report the diff compared with.
   */
  recheckSince: z.iso.datetime().optional(),
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
  /**
   * With an Athena table (SSEGUARD_ATHENA_DIFF_TABLE): the range's listed keys come from a query of
   * the report's partition, not from streaming the report. Absent: the query is started. `poll`:
   * one look at it (sent again, delayed, while it runs). `slice`: its result file from byte
   * `fromByte`, a bounded number of keys, reconciling the keys from `fromKey` (inclusive; absent:
   * the range's start) up to the slice's last key, or the range's end for the last slice.
   */
  athena: z
    .discriminatedUnion('step', [
      // `attempt`: which query of the range this is (absent: the first); a failed or late one is started again, a few times.
      z.strictObject({ step: z.literal('poll'), queryId: z.string().min(1).max(128), startedAt: z.iso.datetime(), attempt: z.number().int().min(2).max(10).optional() }),
      z.strictObject({
        step: z.literal('slice'),
        queryId: z.string().min(1).max(128),
        result: z.strictObject({ bucket: z.string().min(3), key: z.string().min(1) }),
        fromByte: z.number().int().nonnegative(),
        slice: z.number().int().nonnegative(),
        fromKey: z.string().min(1).optional(),
      }),
    ])
    .optional(),
});
export type InventoryReconcileMessage = z.infer<typeof InventoryReconcileMessageSchema>;

export function inventoryFileMessages(report: InventoryReport, recheckSince?: string): InventoryFileMessage[] {
  return report.manifest.files.map((file) => ({
    kind: INVENTORY_FILE_MESSAGE_KIND,
    bucket: report.manifest.sourceBucket,
    destination: { bucket: report.destination.bucket, prefix: report.destination.prefix },
    manifestKey: report.location.key,
    file: { key: file.key, size: file.size, md5: file.md5 },
    ...(recheckSince ? { recheckSince } : {}),
  }));
}

const diffOf = { kind: z.literal(INVENTORY_DIFF_MESSAGE_KIND), bucket: z.string().min(3), destination, manifestKey };
const queryId = z.string().min(1).max(128);

/** The steps of a report swept from its Athena diff (shared/audit/inventory-diff-sweep.ts). */
export const InventoryDiffMessageSchema = z.discriminatedUnion('step', [
  /** Chooses the baseline; starts the diff query, or falls back to one message per data file. */
  z.strictObject({ ...diffOf, step: z.literal('start') }),
  /** Asks Athena once how the query is doing; sent again (delayed) while it runs. */
  z.strictObject({
    ...diffOf,
    step: z.literal('poll'),
    queryId,
    previousManifestKey: manifestKey,
    previousReportDate: z.iso.datetime(),
    /** When the query was started: past the deadline it is stopped and the report fanned out in full. */
    startedAt: z.iso.datetime(),
  }),
  /** Reads the result file from byte `fromByte` (a row boundary), a bounded number of rows. */
  z.strictObject({
    ...diffOf,
    step: z.literal('slice'),
    queryId,
    result: z.strictObject({ bucket: z.string().min(3), key: z.string().min(1) }),
    fromByte: z.number().int().nonnegative(),
    /** The last verified report the diff compared with: the keys it marked absent are settled when the diff is done. */
    previousManifestKey: manifestKey,
    /** The slice's place in the chain, from 0: its audit checkpoint and its done marker. */
    slice: z.number().int().nonnegative(),
  }),
  /**
   * Every slice done: the keys the last verified report marked absent are settled a page at a time
   * (one message per page, the next sent when this one is settled); the last page marks the report verified.
   */
  z.strictObject({
    ...diffOf,
    step: z.literal('absences'),
    queryId,
    previousManifestKey: manifestKey,
    page: z.number().int().nonnegative(),
    /** Where the page starts: the sort key of the last mark of the page before it. */
    after: z.string().min(1).optional(),
  }),
]);
export type InventoryDiffMessage = z.infer<typeof InventoryDiffMessageSchema>;

export function inventoryDiffStartMessage(report: InventoryReport): InventoryDiffMessage {
  return {
    kind: INVENTORY_DIFF_MESSAGE_KIND,
    step: 'start',
    bucket: report.manifest.sourceBucket,
    destination: { bucket: report.destination.bucket, prefix: report.destination.prefix },
    manifestKey: report.location.key,
  };
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
