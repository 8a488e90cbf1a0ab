// The audit worker's inventory tier, free of Lambda types. One message is one data file of one
// report: its rows are audited by inventoryScan({ bucket, manifestKey, files: [file] }) (manifest
// read again and checksum-verified; the file streamed in bounded memory and its MD5 checked at its
// end), fixed and recorded exactly as `sseguard scan --inventory` does (writes only on change;
// evidence 'inventory' or 'head'; the one loop of shared/audit/inventory-scan-run.ts, so a finding
// that matches its recorded state is neither written nor read twice). A finding a retry could change is never recorded: the file is
// then not marked done and the message is retried. The file marker makes a redelivery do nothing.
// When the last file of the report is marked done, one reconcile message goes to the audit queue;
// the reconciliation re-reads the report's keys (the only step that needs the whole report) and
// removes what it proves gone, never an object written or audited after the report's date.
//
// Time per message: rows stream through one chunk (500 rows: recorded states by BatchGetItem, HEADs
// only where needed, ≈ 30 DynamoDB round trips) at a time, so DynamoDB's latency sets the pace.
// Measured (bench/inventory-worker-bench.ts, README "The Lambda sweep with S3 Inventory"): ≈ 4,000
// rows/min against the emulator's DynamoDB, ≈ 900,000 rows/min with the store in memory (32 µs CPU
// per row). A data file whose rows take longer than the worker's 300 s can never finish: it is
// retried until the DLQ takes it. Reconciliation holds the report's keys (≈ 200 bytes each).
import type { Finding } from '../domain/finding.ts';
import { InventoryError } from '../inventory/errors.ts';
import type { InventoryScanStats } from './inventory-scan.ts';
import { inventoryReconcileMessage, type InventoryFileMessage, type InventoryReconcileMessage } from '../inventory/messages.ts';
import type { InventoryReportProgress } from '../findings/inventory-progress.ts';
import type { InventorySource } from '../inventory/source.ts';
import type { FindingsStore } from '../findings/store.ts';
import type { RequestAuditDependencies } from './audit-batch.ts';
import { listedKeys } from '../inventory/listed-keys.ts';
import { auditInventoryRows, removeUnlisted } from './inventory-scan-run.ts';

export interface InventoryFileAuditDependencies extends RequestAuditDependencies {
  store: Pick<FindingsStore, 'record' | 'statesOf' | 'findings'>;
  /** The report's destination as the message names it. */
  inventory: (destination: InventoryFileMessage['destination']) => InventorySource;
  progress: Pick<InventoryReportProgress, 'fileDone' | 'markFileDone' | 'progress' | 'markReconcileQueued' | 'markReconciled'>;
  queue: { sendToAuditQueue(bodies: string[]): Promise<void> };
  clock?: () => Date;
}

export interface InventoryFileAuditResult {
  /** The file was already audited on an earlier delivery: nothing was read or recorded. */
  alreadyDone: boolean;
  recorded: Finding[];
  /** Findings a retry could change: not recorded, the file not marked done; retry the message. */
  transient: Finding[];
  stats?: InventoryScanStats;
  reconcileQueued: boolean;
}

async function queueReconcileIfComplete(deps: InventoryFileAuditDependencies, message: InventoryFileMessage, files: number, at: string): Promise<boolean> {
  const progress = await deps.progress.progress(message.bucket, message.manifestKey);
  if (!progress || progress.filesDone < files || progress.reconciledAt) return false;
  // Sent before it is noted: a crash in between sends it again on redelivery, and a second
  // reconciliation of the same report removes nothing more.
  await deps.queue.sendToAuditQueue([JSON.stringify(inventoryReconcileMessage(message))]);
  await deps.progress.markReconcileQueued(message.bucket, message.manifestKey, at);
  return true;
}

export async function auditInventoryFile(deps: InventoryFileAuditDependencies, message: InventoryFileMessage): Promise<InventoryFileAuditResult> {
  const clock = deps.clock ?? (() => new Date());
  if (await deps.progress.fileDone(message.manifestKey, message.file.key)) {
    const progress = await deps.progress.progress(message.bucket, message.manifestKey);
    const reconcileQueued = progress ? await queueReconcileIfComplete(deps, message, progress.files, clock().toISOString()) : false;
    return { alreadyDone: true, recorded: [], transient: [], reconcileQueued };
  }
  const source = deps.inventory(message.destination);
  const report = await source.at(message.bucket, message.manifestKey);
  // The verified manifest's entry, not the message's: its size and MD5 are the ones checked.
  const file = report.manifest.files.find((f) => f.key === message.file.key);
  if (!file) throw new InventoryError('data-file-invalid', `s3://${message.destination.bucket}/${message.manifestKey} lists no data file ${message.file.key}`);

  const recorded: Finding[] = [];
  const transient: Finding[] = [];
  const { scan } = await auditInventoryRows(
    deps,
    source,
    { bucket: message.bucket, manifestKey: message.manifestKey, files: [file], ...(deps.concurrency ? { concurrency: deps.concurrency } : {}) },
    {
      onTransient: (finding) => void transient.push(finding),
      onFinding: (finding) => void recorded.push(finding),
      // Not recorded as it stands: the message is retried (a fresh HeadObject orders it), never marked done without it.
      onUnrecorded: (finding) => {
        const at = recorded.findIndex((f) => f.key === finding.key);
        if (at >= 0) recorded.splice(at, 1);
        transient.push(finding);
      },
    },
  );
  if (transient.length > 0) return { alreadyDone: false, recorded, transient, stats: scan.stats, reconcileQueued: false };

  const at = clock().toISOString();
  const files = report.manifest.files.length;
  await deps.progress.markFileDone({ bucket: message.bucket, manifestKey: message.manifestKey, files }, file.key, at);
  const reconcileQueued = await queueReconcileIfComplete(deps, message, files, at);
  return { alreadyDone: false, recorded, transient, stats: scan.stats, reconcileQueued };
}

export interface InventoryReconcileResult {
  status: 'reconciled' | 'already-reconciled' | 'incomplete';
  removed: number;
  keysListed?: number;
}

/**
 * Removes what the report proves gone, once every one of its files was audited. The report's
 * current keys are held in bounded memory for the check (listed-keys.ts: a Set, 170–220 bytes per
 * key measured, up to a million keys; then ~1.2 bytes per key); the store's states stream a page at
 * a time. Reading every file again in one invocation still bounds the report's size by the
 * worker's time.
 */
export async function reconcileInventoryReport(deps: InventoryFileAuditDependencies, message: InventoryReconcileMessage): Promise<InventoryReconcileResult> {
  const clock = deps.clock ?? (() => new Date());
  const progress = await deps.progress.progress(message.bucket, message.manifestKey);
  if (progress?.reconciledAt) return { status: 'already-reconciled', removed: 0 };
  if (!progress || progress.filesDone < progress.files) return { status: 'incomplete', removed: 0 };
  const source = deps.inventory(message.destination);
  const report = await source.at(message.bucket, message.manifestKey);
  // Bounded memory whatever the report's size: exact up to a million keys, then a Bloom filter that
  // can only keep a finding one report longer (shared/inventory/listed-keys.ts).
  const listed = listedKeys();
  for await (const row of source.allRows(report)) if (!row.isDeleteMarker && row.isLatest !== false) listed.add(row.key);
  const removed = await removeUnlisted(deps.store, message.bucket, (key) => listed.has(key), report, clock);
  await deps.progress.markReconciled(message.bucket, message.manifestKey, clock().toISOString(), removed);
  return { status: 'reconciled', removed, keysListed: listed.size };
}
