// Gathers what an evidence pack is computed from (the findings table's object items, key facts and
// actions, whole-bucket runs; the buckets that exist; the policy's exemptions), builds the pack, draws
// and re-checks the sample, and renders its files. The CLI and the report API both come here.
import { randomInt } from 'node:crypto';
import { paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { evaluateInspection, type AuditDependencies } from '../audit/audit-object.ts';
import type { Exemption } from '../domain/policy-model.ts';
import { FindingsTableReader, type Item } from '../findings/reader.ts';
import type { KeyAction, ScanRun, Summary } from '../findings/store.ts';
import { KEYACTIONS_PK, SCANS_PK, SWEEPS_PK } from '../findings/table.ts';
import type { SweepRun } from '../sweep/sweep-runs.ts';
import { bucketsToSweep } from '../sweep/buckets.ts';
import { HEADS, HISTORY } from './integrity.ts';
import { buildEvidence, drawSample, groupObjectItems, populationObjects, type EvidenceInputs, type EvidenceOptions, type EvidencePack, type ObjectRecords, type SampleReport, type SampleRow } from './pack.ts';
import { renderCsv, renderHtml } from './render.ts';

async function partition(documents: DynamoDBDocumentClient, tableName: string, pk: string): Promise<Item[]> {
  const items: Item[] = [];
  for await (const page of paginateQuery({ client: documents, pageSize: 1000 }, { TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } })) {
    items.push(...((page.Items ?? []) as Item[]));
  }
  return items;
}

export interface GatherDependencies {
  documents: DynamoDBDocumentClient;
  tableName: string;
  /** Lists the buckets that exist (a never-audited one is a gap); absent where the caller cannot list. */
  s3?: S3Client;
  exemptions: Exemption[];
}

export async function gatherEvidenceInputs(deps: GatherDependencies): Promise<EvidenceInputs & { summary: Summary }> {
  const reader = new FindingsTableReader(deps.documents, deps.tableName);
  const objects = new Map<string, ObjectRecords>();
  for await (const page of reader.objectItems()) groupObjectItems(page, objects);
  const summary = await reader.summary();
  const [scans, sweeps, actions] = await Promise.all([
    partition(deps.documents, deps.tableName, SCANS_PK),
    partition(deps.documents, deps.tableName, SWEEPS_PK),
    partition(deps.documents, deps.tableName, KEYACTIONS_PK),
  ]);
  const wholeBucketRuns = new Map<string, string[]>();
  const ran = (bucket: string, at: string) => wholeBucketRuns.set(bucket, [...(wholeBucketRuns.get(bucket) ?? []), at]);
  for (const run of scans as unknown as ScanRun[]) if (run.prefix === '' && run.finishedAt) ran(run.bucket, run.finishedAt);
  for (const run of sweeps as unknown as SweepRun[]) if (run.finishedAt) for (const bucket of run.buckets ?? []) ran(bucket, run.finishedAt);
  return {
    objects,
    ...(deps.s3 ? { existingBuckets: await bucketsToSweep(deps.s3, ['*']) } : {}),
    keyFacts: summary.keyFacts,
    keyActions: actions.map(({ pk: _pk, sk: _sk, ...action }) => action as unknown as KeyAction),
    wholeBucketRuns,
    exemptions: deps.exemptions,
    summary,
  };
}

/** Draws `size` objects of the population (seeded) and re-checks each live: HeadObject and its key. */
export async function checkSample(inputs: EvidenceInputs, options: EvidenceOptions, audit: AuditDependencies, size: number, seed = randomInt(2 ** 31)): Promise<SampleReport> {
  // The sample is of what is recorded now: that is what a live check can confirm or contradict.
  const { objects } = populationObjects(inputs, { ...options, reconstructed: false });
  const drawn = drawSample(objects, size, seed);
  const rows: SampleRow[] = [];
  for (const recorded of drawn) {
    const checkedAt = new Date().toISOString();
    const recordedView = {
      verdict: recorded.verdict,
      ...(recorded.mode ? { mode: recorded.mode } : {}),
      ...(recorded.kmsKeyArn ? { kmsKeyArn: recorded.kmsKeyArn } : {}),
      ...(recorded.versionId ? { versionId: recorded.versionId } : {}),
      ...(recorded.etag ? { etag: recorded.etag } : {}),
    };
    try {
      const inspection = await audit.objects.inspect(recorded.bucket, { key: recorded.key, size: recorded.size ?? 0 });
      // A read that failed for weather is no evidence either way.
      if (inspection.status === 'unreadable' && inspection.reason === 'object-unreadable') {
        rows.push({ bucket: recorded.bucket, key: recorded.key, recorded: recordedView, result: 'could-not-check', differences: [inspection.detail], checkedAt });
        continue;
      }
      const { finding, key } = await evaluateInspection(audit, inspection, recorded.size ?? 0);
      if (key?.status === 'error') {
        rows.push({ bucket: recorded.bucket, key: recorded.key, recorded: recordedView, result: 'could-not-check', differences: [`KMS: ${key.detail}`], checkedAt });
        continue;
      }
      const live = {
        verdict: finding.verdict,
        ...(finding.mode ? { mode: finding.mode } : {}),
        ...(finding.kmsKeyArn ? { kmsKeyArn: finding.kmsKeyArn } : {}),
        ...(finding.versionId ? { versionId: finding.versionId } : {}),
        ...(finding.etag ? { etag: finding.etag } : {}),
        ...(key?.status === 'described' ? { keyState: key.state } : key ? { keyState: key.status } : {}),
      };
      const differences: string[] = [];
      if (inspection.status === 'unreadable') differences.push(`live: ${inspection.reason} (${inspection.detail})`);
      for (const field of ['verdict', 'mode', 'kmsKeyArn', 'versionId', 'etag'] as const) {
        // HeadObject of an SSE-C object without its key tells no ETag: absent on either side is no evidence.
        if ((field === 'versionId' || field === 'etag') && (recordedView[field] === undefined || live[field] === undefined)) continue;
        if ((recordedView[field as keyof typeof recordedView] ?? null) !== (live[field as keyof typeof live] ?? null)) {
          differences.push(`${field}: recorded ${recordedView[field as keyof typeof recordedView] ?? '—'}, live ${live[field as keyof typeof live] ?? '—'}`);
        }
      }
      rows.push({ bucket: recorded.bucket, key: recorded.key, recorded: recordedView, live, result: differences.length ? 'mismatch' : 'match', differences, checkedAt });
    } catch (error) {
      rows.push({ bucket: recorded.bucket, key: recorded.key, recorded: recordedView, result: 'could-not-check', differences: [(error as Error).message], checkedAt });
    }
  }
  return {
    seed,
    requested: size,
    drawnFrom: objects.length,
    rows,
    matches: rows.filter((r) => r.result === 'match').length,
    mismatches: rows.filter((r) => r.result === 'mismatch').length,
    couldNotCheck: rows.filter((r) => r.result === 'could-not-check').length,
  };
}

/** The pack's files (all but the manifest, signature and public key). */
export function packFiles(pack: EvidencePack, inputs: EvidenceInputs, options: EvidenceOptions, signingKey?: string): Record<string, string> {
  const history: string[] = [];
  const heads: string[] = [];
  const ids = [...inputs.objects.keys()].sort();
  for (const id of ids) {
    const records = inputs.objects.get(id)!;
    if (options.scope.buckets && !options.scope.buckets.includes(records.bucket)) continue;
    for (const entry of [...records.history].sort((a, b) => (a.sk < b.sk ? -1 : 1))) history.push(JSON.stringify({ object: id, ...entry }));
    if (records.state?.chainHead) heads.push(JSON.stringify({ object: id, chainHead: records.state.chainHead }));
  }
  return {
    'evidence.json': `${JSON.stringify(pack, null, 2)}\n`,
    'report.html': renderHtml(pack, { ...(signingKey ? { signingKey } : {}), verifyCommand: `openssl dgst -sha256 -verify public-key.pem -signature manifest.sig manifest.json` }),
    ...renderCsv(pack),
    [HISTORY]: history.length ? `${history.join('\n')}\n` : '',
    [HEADS]: heads.length ? `${heads.join('\n')}\n` : '',
  };
}

export { buildEvidence };
