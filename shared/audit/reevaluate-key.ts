// When a KMS key's state changes, every object encrypted under it changes risk: re-evaluate them
// from their recorded facts (the objects did not change, only the key) through the by-key index,
// and record the new verdicts. Raises at-risk when a key is disabled or scheduled for deletion and
// clears it when the key is enabled or its deletion cancelled.
import type { KeyLookup, ObjectInspection } from '../domain/encryption.ts';
import { evaluate } from '../domain/evaluate.ts';
import { toFinding, type Finding } from '../domain/finding.ts';
import type { ResolvedPolicy } from '../domain/policy.ts';
import type { Verdict } from '../domain/verdict.ts';
import type { FindingsStore, StoredFinding } from '../findings/store.ts';
import type { KmsKeyInspector } from '../inspect/key-inspector.ts';
import { BatchRecorder } from './batch-recorder.ts';

export interface KeyReevaluationDependencies {
  keys: Pick<KmsKeyInspector, 'lookup' | 'forget'>;
  store: Pick<FindingsStore, 'findings' | 'record' | 'recordKeys'>;
  policy: ResolvedPolicy;
  clock?: () => Date;
}

export interface KeyReevaluation {
  key: KeyLookup;
  objects: number;
  verdicts: Partial<Record<Verdict, number>>;
}

function inspectionFrom(stored: StoredFinding): ObjectInspection {
  return {
    status: 'read',
    facts: {
      bucket: stored.bucket,
      key: stored.key,
      size: stored.size,
      storageClass: stored.storageClass ?? 'STANDARD',
      mode: stored.mode!,
      bucketKeyEnabled: stored.bucketKeyEnabled ?? false,
      objectLock: { legalHold: false },
      ...(stored.versionId ? { versionId: stored.versionId } : {}),
      ...(stored.etag ? { etag: stored.etag } : {}),
      ...(stored.kmsKeyArn ? { kmsKeyArn: stored.kmsKeyArn } : {}),
    },
  };
}

export async function reevaluateKey(deps: KeyReevaluationDependencies, keyRef: string): Promise<KeyReevaluation> {
  deps.keys.forget(keyRef);
  const key = await deps.keys.lookup(keyRef);
  const now = deps.clock?.() ?? new Date();
  await deps.store.recordKeys([key], now);
  const result: KeyReevaluation = { key, objects: 0, verdicts: {} };
  const recorder = new BatchRecorder(deps.store);
  for await (const page of deps.store.findings({ kmsKeyArn: key.arn })) {
    for (const stored of page) {
      if (!stored.mode) continue;
      const inspection = inspectionFrom(stored);
      const finding: Finding = toFinding(inspection, evaluate({ inspection, key, policy: deps.policy, now }), key, now, stored.size);
      await recorder.add(finding);
      result.objects += 1;
      result.verdicts[finding.verdict] = (result.verdicts[finding.verdict] ?? 0) + 1;
    }
  }
  await recorder.flush();
  return result;
}
