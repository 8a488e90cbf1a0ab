// A scan from the bucket's newest S3 Inventory report instead of a listing and a HeadObject per
// object: each row is decided by the inventory where it can be (shared/inventory/decide.ts) and
// HEADed only where it cannot, then fixed and recorded exactly as scanBucket does (unchanged objects
// write nothing). Objects the store holds that the report proves gone are removed (reconciliation).
// The listed keys are held in bounded memory for that (shared/inventory/listed-keys.ts: exact up to
// a million keys, then a Bloom filter that can only err towards keeping a finding); the Lambda
// fan-out processes one data file per message and leaves reconciliation to the run's end.
import { randomUUID } from 'node:crypto';
import type { Finding } from '../domain/finding.ts';
import { writesNothing } from '../findings/record-plan.ts';
import type { StoredFinding } from '../findings/store.ts';
import type { RecordedState } from '../inventory/decide.ts';
import { inventoryScan, recordKey, type InventoryScanStats, type RecordedStateQuery } from '../inventory/inventory-scan.ts';
import { listedKeys } from '../inventory/listed-keys.ts';
import { listsAllVersions, reconcile } from '../inventory/reconcile.ts';
import type { InventorySource } from '../inventory/source.ts';
import { isTransient } from './audit-batch.ts';
import { BatchRecorder } from './batch-recorder.ts';
import { countFinding, emptyScanResult, finishScan, type ScanDependencies, type ScanOptions, type ScanResult } from './scan.ts';

export interface InventoryScanRunResult extends ScanResult {
  inventory: InventoryScanStats & {
    evidence: 'inventory' | 'metadata-table';
    reportDate: string;
    manifestKey: string;
    removed: number;
    noncurrentSkipped: number;
    /** Findings that matched their recorded state: nothing written, nothing read again. */
    unchanged: number;
  };
}

function recordedState(state: StoredFinding): RecordedState | undefined {
  if (!state.mode) return undefined;
  return {
    ...(state.versionId ? { versionId: state.versionId } : {}),
    ...(state.etag ? { etag: state.etag } : {}),
    mode: state.mode,
    ...(state.kmsKeyArn ? { kmsKeyArn: state.kmsKeyArn } : {}),
    bucketKeyEnabled: Boolean(state.bucketKeyEnabled),
    verdict: state.verdict,
  };
}

export async function scanFromInventory(
  deps: ScanDependencies & { inventory: InventorySource },
  options: ScanOptions & { configId?: string },
): Promise<InventoryScanRunResult> {
  const clock = deps.clock ?? (() => new Date());
  const result = emptyScanResult(randomUUID(), options, clock());
  const store = deps.store;
  const recorder = store ? new BatchRecorder(store) : undefined;
  const listed = listedKeys();
  let noncurrentSkipped = 0;
  let unchanged = 0;
  // The states read for the chunk being audited: a finding that matches its state is not handed to
  // the recorder, which would read the state again only to write nothing. Changed findings then fill
  // the recorder's transactions, instead of one near-empty transaction per 45 rows at 1% churn.
  let chunkStates = new Map<string, StoredFinding>();

  const recordedStates = async (bucket: string, objects: RecordedStateQuery[]): Promise<Map<string, RecordedState>> => {
    const found = new Map<string, RecordedState>();
    chunkStates = new Map();
    if (!store) return found;
    const states = await store.statesOf(bucket, objects.map((o) => o.key));
    // Every audit of the previous chunk was consumed before this chunk's lookup: only this chunk's states are kept.
    chunkStates = states;
    for (const query of objects) {
      const state = states.get(query.key);
      // The store holds each object's current version: it speaks for a row of that version only.
      if (!state || (query.versionId && state.versionId && state.versionId !== query.versionId)) continue;
      const recorded = recordedState(state);
      if (recorded) found.set(recordKey(query.key, query.versionId), recorded);
    }
    return found;
  };

  const scan = await inventoryScan({ ...deps, recordedStates }, {
    bucket: options.bucket,
    concurrency: options.concurrency,
    ...(options.configId ? { configId: options.configId } : {}),
  });
  for await (const audit of scan.audits) {
    // Noncurrent versions are not the object's state (versions are audited with --all-versions).
    if (audit.isLatest === false) {
      noncurrentSkipped += 1;
      continue;
    }
    if (options.prefix && !audit.finding.key.startsWith(options.prefix)) continue;
    listed.add(audit.finding.key);
    let finding: Finding = { ...audit.finding, evidence: audit.evidence, evidenceAt: audit.evidenceAt };
    if (finding.remediate && deps.remediator && !isTransient(finding)) {
      finding = { ...(await deps.remediator(audit)), evidence: 'head', evidenceAt: clock().toISOString() };
    }
    if (isTransient(finding)) {
      result.notAudited += 1;
      await options.onNotAudited?.(finding);
      continue;
    }
    countFinding(result, finding, 1);
    await options.onFinding?.(finding);
    const stored = chunkStates.get(finding.key);
    if (stored && writesNothing(stored, finding)) unchanged += 1;
    else await recorder?.add(finding);
    options.onProgress?.({ listed: scan.stats.rows, audited: result.objects });
  }
  await recorder?.flush();

  // What the store holds that the report proves gone: removed, with its history kept.
  let removed = 0;
  const evidence = scan.report.evidence ?? 'inventory';
  if (store) {
    const scope = {
      createdAt: scan.report.manifest.createdAt,
      allVersions: listsAllVersions(scan.report.manifest.columns),
    };
    const gone: Finding[] = [];
    for await (const page of store.findings({ bucket: options.bucket })) {
      for (const state of page) {
        if (options.prefix && !state.key.startsWith(options.prefix)) continue;
        const presence = { key: state.key, firstSeen: state.firstSeen, ...(state.lastModified ? { lastModified: state.lastModified } : {}) };
        if (reconcile(presence, listed.has(state.key), scope) !== 'gone') continue;
        gone.push({
          bucket: state.bucket,
          key: state.key,
          size: state.size,
          verdict: 'unauditable',
          reasons: [
            {
              code: 'object-vanished',
              message: `not in the ${evidence === 'metadata-table' ? 'S3 Metadata table as of' : 'inventory report of'} ${scope.createdAt.toISOString()}`,
            },
          ],
          remediate: false,
          auditedAt: clock().toISOString(),
          removed: true,
          evidence,
          evidenceAt: scope.createdAt.toISOString(),
        });
      }
    }
    removed = gone.length;
    if (gone.length > 0) await store.record(gone);
  }
  await finishScan(deps, result, clock);
  return {
    ...result,
    inventory: {
      ...scan.stats,
      evidence,
      reportDate: scan.report.manifest.createdAt.toISOString(),
      manifestKey: scan.report.location.key,
      removed,
      noncurrentSkipped,
      unchanged,
    },
  };
}
