// Audits a bucket from its newest inventory report: each row is decided by decideFromInventory
// (inventory evidence, or a HeadObject), then evaluated by the same evaluateInspection every other
// path uses. Rows stream in chunks: one recorded-state lookup per chunk, HEADs only where needed,
// so memory holds one chunk whatever the bucket's size.
import { mapConcurrently } from './adaptive-concurrency.ts';
import { evaluateInspection, type AuditDependencies, type ObjectAudit } from './audit-object.ts';
import type { ListedObject } from '../domain/listed-object.ts';
import { requirementFor } from '../domain/policy.ts';
import { decideFromInventory, type NeedsHeadReason, type RecordedState } from '../inventory/decide.ts';
import type { InventoryDataFile } from '../inventory/manifest.ts';
import type { InventoryRow } from '../inventory/row.ts';
import type { InventoryReport, InventorySource } from '../inventory/source.ts';

/** One object the store may hold a state for: the version when the report lists versions, else the latest. */
export interface RecordedStateQuery {
  key: string;
  versionId?: string;
}

export const recordKey = (key: string, versionId?: string) => `${key}\u0000${versionId ?? ''}`;

export interface InventoryScanDependencies extends AuditDependencies {
  inventory: InventorySource;
  /** Recorded states of these objects, keyed by recordKey(key, versionId as queried). */
  recordedStates(bucket: string, objects: RecordedStateQuery[]): Promise<Map<string, RecordedState>>;
}

export interface InventoryScanOptions {
  bucket: string;
  configId?: string;
  /** This report (a queue message names its manifest) instead of the newest. */
  manifestKey?: string;
  /** Only these data files of the report (one queue message each in Lambda); default all. */
  files?: InventoryDataFile[];
  /** Rows per recorded-state lookup. */
  chunkSize?: number;
  /** HeadObject calls at once within a chunk. */
  concurrency?: number;
  /**
   * Which rows reach the audit (a report diff and the rolling re-check: shared/audit/inventory-baseline.ts).
   * Default: every row, none due for a re-check.
   */
  selectRow?: (row: InventoryRow) => RowSelection;
}

/**
 * `audit`: decided as usual. `reverify`: decided as usual, and a KMS object HEADed even when its
 * recorded key would do (decide.ts, rolling re-check). `unchanged`: listed exactly as in the last
 * verified report: neither read, HEADed nor written (`onUnchanged` sees it).
 */
export type RowSelection = 'audit' | 'reverify' | 'unchanged';

export interface InventoryAudit extends ObjectAudit {
  evidence: 'inventory' | 'metadata-table' | 'head';
  /** When the evidence was true: the inventory's scan time, or the HEAD's audit time. */
  evidenceAt: string;
  headReason?: NeedsHeadReason;
  /** What the report says of the row: false for a noncurrent version (reports of all versions). */
  isLatest?: boolean;
}

export interface InventoryScanStats {
  rows: number;
  byInventory: number;
  byHead: number;
  skipped: number;
  /** Rows listed exactly as in the last verified report: not audited again. */
  unchangedSinceReport: number;
  headReasons: Partial<Record<NeedsHeadReason, number>>;
}

export interface InventoryScan {
  report: InventoryReport;
  stats: InventoryScanStats;
  audits: AsyncIterable<InventoryAudit>;
}

export interface InventoryScanHooks {
  /** A row `selectRow` called unchanged: not audited, still listed (reconciliation must know it). */
  onUnchanged?(row: InventoryRow): void;
}

function listed(row: InventoryRow): ListedObject {
  return {
    key: row.key,
    size: row.size ?? 0,
    ...(row.etag ? { etag: `"${row.etag}"` } : {}),
    ...(row.storageClass ? { storageClass: row.storageClass } : {}),
    ...(row.lastModified ? { lastModified: row.lastModified } : {}),
  };
}

async function* chunks<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let chunk: T[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}


export async function inventoryScan(deps: InventoryScanDependencies, options: InventoryScanOptions, hooks: InventoryScanHooks = {}): Promise<InventoryScan> {
  const report =
    options.manifestKey !== undefined
      ? await deps.inventory.at(options.bucket, options.manifestKey)
      : await deps.inventory.newest(options.bucket, options.configId === undefined ? {} : { configId: options.configId });
  const stats: InventoryScanStats = { rows: 0, byInventory: 0, byHead: 0, skipped: 0, unchangedSinceReport: 0, headReasons: {} };
  const inventoryAt = report.manifest.createdAt.toISOString();
  const files = options.files ?? report.manifest.files;

  async function* rows(): AsyncGenerator<InventoryRow> {
    for (const file of files) yield* deps.inventory.rows(report, file);
  }

  const reverify = new WeakSet<InventoryRow>();
  /** The rows that reach the audit: the unchanged are counted and passed over before any lookup. */
  async function* selected(): AsyncGenerator<InventoryRow> {
    const select = options.selectRow;
    for await (const row of rows()) {
      const selection = select ? select(row) : 'audit';
      if (selection === 'unchanged') {
        stats.rows += 1;
        stats.unchangedSinceReport += 1;
        hooks.onUnchanged?.(row);
        continue;
      }
      if (selection === 'reverify') reverify.add(row);
      yield row;
    }
  }

  async function* audits(): AsyncGenerator<InventoryAudit> {
    for await (const chunk of chunks(selected(), options.chunkSize ?? 500)) {
      const recorded = await deps.recordedStates(
        options.bucket,
        chunk.filter((r) => !r.isDeleteMarker).map((r) => ({ key: r.key, ...(r.versionId ? { versionId: r.versionId } : {}) })),
      );
      const decided = chunk.map((row) => {
        // Client-side envelopes matter where the rule judges them: forbidden, or sufficient on their own.
        const { requirement } = requirementFor(deps.policy, options.bucket, row.key);
        const decision = decideFromInventory(row, recorded.get(recordKey(row.key, row.versionId)), {
          clientSideMatters: requirement.clientSide.accept !== 'allowed',
          reverify: reverify.has(row),
        });
        return { row, decision };
      });
      const results = await mapConcurrently(decided, options.concurrency ?? 16, async ({ row, decision }): Promise<InventoryAudit | undefined> => {
        stats.rows += 1;
        if ('skip' in decision) {
          stats.skipped += 1;
          return undefined;
        }
        if ('evidence' in decision) {
          stats.byInventory += 1;
          const audit = await evaluateInspection(deps, { status: 'read', facts: decision.facts }, decision.facts.size);
          return { ...audit, evidence: report.evidence ?? 'inventory', evidenceAt: inventoryAt, ...(row.isLatest === undefined ? {} : { isLatest: row.isLatest }) };
        }
        stats.byHead += 1;
        stats.headReasons[decision.why] = (stats.headReasons[decision.why] ?? 0) + 1;
        const inspection = await deps.objects.inspect(options.bucket, listed(row), row.versionId);
        const audit = await evaluateInspection(deps, inspection, row.size ?? 0);
        return { ...audit, evidence: 'head', evidenceAt: audit.finding.auditedAt, headReason: decision.why, ...(row.isLatest === undefined ? {} : { isLatest: row.isLatest }) };
      });
      for (const result of results) if (result) yield result;
    }
  }

  return { report, stats, audits: audits() };
}
