// The auditor's walkthrough: N objects drawn at random from the recorded population (seeded, the
// seed printed), each re-checked live now (HeadObject and its KMS key, evaluated against the policy)
// and compared with its recorded finding. A read that failed for weather is "could not check", never
// a match or a mismatch.
import { evaluateInspection, type AuditDependencies } from '../audit/audit-object.ts';
import type { PopulationObject, SampleReport, SampleRow } from './pack.ts';

/**
 * Re-checks each drawn object live (HeadObject and its key). The draw (EvidenceAccumulator) is of
 * what is recorded now — what a live check can confirm or contradict — seeded: `size` objects with
 * the lowest SHA-256 of (seed, object), the same for the same seed and records, in any scan order.
 */
export async function checkSample(drawn: PopulationObject[], drawnFrom: number, audit: AuditDependencies, size: number, seed: number): Promise<SampleReport> {
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
    drawnFrom,
    rows,
    matches: rows.filter((r) => r.result === 'match').length,
    mismatches: rows.filter((r) => r.result === 'mismatch').length,
    couldNotCheck: rows.filter((r) => r.result === 'could-not-check').length,
  };
}

