// Evidence pack benchmark: `npx tsx bench/evidence-bench.ts [--objects N] [--json]`. Generates N
// objects' records one at a time (a state and three chained history entries each: first audit, a
// verdict change, a fix) and times what `sseguard evidence` does with them as the table Scan hands
// them over: the pack computed and written as the objects pass (population, coverage, exceptions,
// keys, changes, the check of every history chain; HTML, JSON, CSV, history.jsonl), then every file
// hashed into the manifest. Projects the time and the table bytes a Scan reads to one million
// findings, linearly (one pass), and reports the process's peak RSS (getrusage maxRSS): with the
// streaming pack it no longer grows with N.
//
// Not measured: the table Scan itself on DynamoDB (one sequential Scan reads 1 MB per page; the
// bytes read are reported so the read can be projected from the account's Scan throughput) and the
// KMS Sign call (one per pack). moto's Scan walks every item per page and says nothing about DynamoDB.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeEvidencePack } from '#shared/evidence/files.ts';
import type { EvidenceContext, ObjectRecords } from '#shared/evidence/pack.ts';
import { chained, type StoredHistoryEntry } from '#shared/findings/history-chain.ts';
import type { HistoryEntry, StoredFinding } from '#shared/findings/store.ts';

const { values } = parseArgs({ options: { objects: { type: 'string', default: '100000' }, json: { type: 'boolean', default: false } } });
const N = Number(values.objects);
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000';
const DAY = 86_400_000;
const t0 = Date.parse('2026-09-01T00:00:00Z');

function records(i: number): ObjectRecords {
  const bucket = `bench-bucket-${i % 20}`;
  const key = `data/${String(i).padStart(8, '0')}/part-${i % 97}.parquet`;
  const id = `${bucket}/${key}`;
  const at = (day: number) => new Date(t0 + day * DAY + i).toISOString();
  const entries: HistoryEntry[] = [
    { auditedAt: at(0), rev: 1, verdict: 'noncompliant', reasons: [{ code: 'mode-not-allowed', message: 'SSE-S3 where SSE-KMS is required' }], mode: 'sse-s3', etag: `"e${i}"`, size: 1000 + (i % 5000) },
    { auditedAt: at(30), rev: 2, verdict: 'compliant', reasons: [], mode: 'sse-kms', kmsKeyArn: KEY, etag: `"e${i}"`, size: 1000 + (i % 5000), previousVerdict: 'noncompliant', remediation: { action: 'update-encryption', outcome: 'fixed', at: at(30), before: { mode: 'sse-s3', bucketKeyEnabled: false, etag: `"e${i}"` }, after: { mode: 'sse-kms', kmsKeyArn: KEY, bucketKeyEnabled: true, etag: `"e${i}"` } } },
    { auditedAt: at(60), rev: 3, verdict: i % 10 === 0 ? 'at-risk' : 'compliant', reasons: [], mode: 'sse-kms', kmsKeyArn: KEY, etag: `"e${i}"`, size: 1000 + (i % 5000), previousVerdict: 'compliant' },
  ];
  let head: string | undefined;
  const history: StoredHistoryEntry[] = entries.map((e) => {
    const linked = chained(id, e, head);
    head = linked.hash;
    return { ...linked, sk: `HIST#${e.auditedAt}#${String(e.rev).padStart(10, '0')}` };
  });
  const last = entries[2]!;
  const state: StoredFinding = { bucket, key, size: last.size!, mode: 'sse-kms', kmsKeyArn: KEY, etag: last.etag!, verdict: last.verdict, reasons: [], remediate: true, auditedAt: last.auditedAt, firstSeen: entries[0]!.auditedAt, lastSeen: last.auditedAt, rev: 3, chainHead: head! };
  return { bucket, key, state, history, versions: [] };
}

let tableBytes = 0;
let generateMs = 0;
/** The objects as the table Scan hands them over: one at a time, never all in memory. */
async function* objects(): AsyncIterable<[string, ObjectRecords]> {
  for (let i = 0; i < N; i++) {
    const started = performance.now();
    const r = records(i);
    tableBytes += JSON.stringify(r.state).length + r.history.reduce((sum, e) => sum + JSON.stringify(e).length, 0);
    generateMs += performance.now() - started;
    yield [`${r.bucket}/${r.key}`, r];
  }
}

const context: EvidenceContext = { keyFacts: {}, keyActions: [], wholeBucketRuns: new Map(), exemptions: [] };
const dir = join(mkdtempSync(join(tmpdir(), 'sseguard-evidence-bench-')), 'pack');
const options = { asOf: new Date(t0 + 45 * DAY), reconstructed: true, windowDays: 90, scope: {}, generatedAt: new Date() };
const started = performance.now();
const { pack, manifest } = await writeEvidencePack({ context, objects: objects() }, options, dir);
const packMs = Math.round(performance.now() - started - generateMs);
const packBytes = manifest.files.reduce((sum, f) => sum + f.bytes, 0);
rmSync(dir, { recursive: true, force: true });

const perMillion = (value: number) => Math.round((value * 1e6) / N);
const result = {
  objects: N,
  historyEntries: N * 3,
  generateMs: Math.round(generateMs),
  packMs,
  projectedSecondsPerMillion: Math.round(perMillion(packMs) / 100) / 10,
  tableMbPerMillion: Math.round(perMillion(tableBytes) / 1e6),
  packMbPerMillion: Math.round(perMillion(packBytes) / 1e6),
  peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  exceptions: pack.totals.exceptions,
  chainProblems: pack.chains.problems.length,
};
if (values.json) console.log(JSON.stringify({ evidence: result }));
else {
  console.log(`evidence pack of ${N} objects (${N * 3} chained history entries), computed and written as they pass: ${packMs} ms (generating the records: ${result.generateMs} ms more)`);
  console.log(`projected per million findings: ${result.projectedSecondsPerMillion} s of pack generation after the read; the Scan reads ≈ ${result.tableMbPerMillion} MB; the pack is ≈ ${result.packMbPerMillion} MB; peak RSS ${result.peakRssMb} MB at ${N}`);
}
