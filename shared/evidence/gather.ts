// Gathers what an evidence pack is computed from: the findings table's object items (a scan of the
// table, handed on one object at a time), key facts and actions, whole-bucket runs; the buckets that
// exist (when the caller can list them) and the policy's exemptions. DynamoDB only: the report API's
// bundle carries it.
import { createHash } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Exemption } from '../domain/policy-model.ts';
import { FindingsTableReader, type Item } from '../findings/reader.ts';
import type { KeyAction, ScanRun, Summary } from '../findings/store.ts';
import { KEYACTIONS_PK, SCANS_PK, SWEEPS_PK } from '../findings/table.ts';
import type { SweepRun } from '../findings/sweep-runs.ts';
import { groupObjectItems, type EvidenceContext, type EvidenceInputs, type ObjectRecords } from './pack.ts';

export interface GatherDependencies {
  documents: DynamoDBDocumentClient;
  tableName: string;
  /** Lists the buckets that exist (a never-audited one is a gap); absent where the caller cannot list. */
  listBuckets?: () => Promise<string[]>;
  exemptions: Exemption[];
}

/** Everything but the objects: key facts and actions, whole-bucket runs, existing buckets, exemptions. */
export async function gatherEvidenceContext(deps: GatherDependencies): Promise<EvidenceContext & { summary: Summary }> {
  const reader = new FindingsTableReader(deps.documents, deps.tableName);
  const summary = await reader.summary();
  const [scans, sweeps, actions] = await Promise.all([
    reader.allItems(SCANS_PK),
    reader.allItems(SWEEPS_PK),
    reader.allItems(KEYACTIONS_PK),
  ]);
  const wholeBucketRuns = new Map<string, string[]>();
  const ran = (bucket: string, at: string) => wholeBucketRuns.set(bucket, [...(wholeBucketRuns.get(bucket) ?? []), at]);
  for (const run of scans as unknown as ScanRun[]) if (run.prefix === '' && run.finishedAt) ran(run.bucket, run.finishedAt);
  for (const run of sweeps as unknown as SweepRun[]) if (run.finishedAt) for (const bucket of run.buckets ?? []) ran(bucket, run.finishedAt);
  return {
    ...(deps.listBuckets ? { existingBuckets: await deps.listBuckets() } : {}),
    keyFacts: summary.keyFacts,
    keyActions: actions.map(({ pk: _pk, sk: _sk, ...action }) => action as unknown as KeyAction),
    wholeBucketRuns,
    exemptions: deps.exemptions,
    summary,
  };
}

/** A 52-bit fingerprint of an object id: a number, exact in a double, ~40 bytes in a Set. */
const fingerprint = (id: string): number => Number.parseInt(createHash('sha1').update(id).digest('hex').slice(0, 13), 16);

/**
 * The table's objects one at a time, from pages of a Scan. A Scan returns an item collection (one
 * partition key's items) together, in sort-key order, so an object is complete when the next one
 * begins. Were an object's items ever to come apart, the pack would count it twice: that is refused.
 */
export async function* objectRecordsOf(pages: AsyncIterable<Item[]>): AsyncIterable<[string, ObjectRecords]> {
  const done = new Set<number>();
  let current: { id: string; records: ObjectRecords } | undefined;
  for await (const page of pages) {
    for (const item of page) {
      const id = String(item.pk).slice(4);
      if (current && current.id !== id) {
        done.add(fingerprint(current.id));
        yield [current.id, current.records];
        current = undefined;
      }
      if (!current) {
        if (done.has(fingerprint(id))) throw new Error(`the table scan returned the items of ${id} apart: the pack cannot be computed one object at a time`);
        const grouped = groupObjectItems([item]);
        current = { id, records: grouped.get(id)! };
      } else groupObjectItems([item], new Map([[id, current.records]]));
    }
  }
  if (current) yield [current.id, current.records];
}

/** The table's object items, one object at a time. */
export function tableObjects(deps: Pick<GatherDependencies, 'documents' | 'tableName'>): AsyncIterable<[string, ObjectRecords]> {
  return objectRecordsOf(new FindingsTableReader(deps.documents, deps.tableName).objectItems());
}

/** Everything in memory (the report API: a response is bounded by Lambda's 6 MB anyway). */
export async function gatherEvidenceInputs(deps: GatherDependencies): Promise<EvidenceInputs & { summary: Summary }> {
  const context = await gatherEvidenceContext(deps);
  const objects = new Map<string, ObjectRecords>();
  for await (const page of new FindingsTableReader(deps.documents, deps.tableName).objectItems()) groupObjectItems(page, objects);
  return { ...context, objects };
}
