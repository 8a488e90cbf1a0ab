// Gathers what an evidence pack is computed from: the findings table's object items (a scan of the
// table), key facts and actions, whole-bucket runs; the buckets that exist (when the caller can
// list them) and the policy's exemptions. DynamoDB only: the report API's bundle carries it.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Exemption } from '../domain/policy-model.ts';
import { FindingsTableReader } from '../findings/reader.ts';
import type { KeyAction, ScanRun, Summary } from '../findings/store.ts';
import { KEYACTIONS_PK, SCANS_PK, SWEEPS_PK } from '../findings/table.ts';
import type { SweepRun } from '../findings/sweep-runs.ts';
import { groupObjectItems, type EvidenceInputs, type ObjectRecords } from './pack.ts';

export interface GatherDependencies {
  documents: DynamoDBDocumentClient;
  tableName: string;
  /** Lists the buckets that exist (a never-audited one is a gap); absent where the caller cannot list. */
  listBuckets?: () => Promise<string[]>;
  exemptions: Exemption[];
}

export async function gatherEvidenceInputs(deps: GatherDependencies): Promise<EvidenceInputs & { summary: Summary }> {
  const reader = new FindingsTableReader(deps.documents, deps.tableName);
  const objects = new Map<string, ObjectRecords>();
  for await (const page of reader.objectItems()) groupObjectItems(page, objects);
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
    objects,
    ...(deps.listBuckets ? { existingBuckets: await deps.listBuckets() } : {}),
    keyFacts: summary.keyFacts,
    keyActions: actions.map(({ pk: _pk, sk: _sk, ...action }) => action as unknown as KeyAction),
    wholeBucketRuns,
    exemptions: deps.exemptions,
    summary,
  };
}

