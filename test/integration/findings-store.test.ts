import { beforeAll, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import type { Finding } from '../../shared/domain/finding.ts';
import { VERDICTS, type Verdict } from '../../shared/domain/verdict.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { checkChain, type StoredHistoryEntry } from '../../shared/findings/history-chain.ts';

const TABLE = 'findings-race';
const clients = createAwsClients();

beforeAll(async () => {
  expect(await ensureFindingsTable(clients.dynamodb, TABLE)).toBe('created');
});

function finding(key: string, verdict: Verdict, auditedAt: string, size = 10): Finding {
  return { bucket: 'race', key, size, mode: 'sse-s3', verdict, reasons: [], remediate: false, auditedAt };
}

test('init is idempotent and refuses a table of another shape', async () => {
  expect(await ensureFindingsTable(clients.dynamodb, TABLE)).toBe('exists');
  const { CreateTableCommand } = await import('@aws-sdk/client-dynamodb');
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: 'not-ours',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    }),
  );
  await expect(ensureFindingsTable(clients.dynamodb, 'not-ours')).rejects.toThrow(/not an sseguard findings table/);
});

test('writers racing on the same objects lose no update: counters always equal the states', async () => {
  // Four independent writers (as four Lambda workers would be) each record every object several
  // times with different verdicts and audit times, all at once.
  const writers = Array.from({ length: 4 }, () => new DynamoFindingsStore(createAwsClients().documents, TABLE));
  const objects = Array.from({ length: 20 }, (_, i) => `obj-${i}`);
  const rounds = 5;
  const latest = new Map<string, Finding>();
  const batches: Promise<unknown>[] = [];
  for (let round = 0; round < rounds; round++) {
    writers.forEach((writer, w) => {
      const batch = objects.map((key, i) => {
        const auditedAt = new Date(Date.UTC(2026, 10, 23, 0, round, w, i)).toISOString();
        const f = finding(key, VERDICTS[(round + w + i) % VERDICTS.length]!, auditedAt, 10 + w);
        const seen = latest.get(key);
        if (!seen || seen.auditedAt < auditedAt) latest.set(key, f);
        return f;
      });
      batches.push(writer.record(batch));
    });
  }
  await Promise.all(batches);

  const reader = writers[0]!;
  const states = new Map<string, Finding>();
  for await (const page of reader.findings({ bucket: 'race' })) for (const f of page) states.set(f.key, f);
  expect(states.size).toBe(objects.length);
  // The newest audit of each object stands, whatever order the writes landed in.
  for (const [key, newest] of latest) expect(states.get(key)).toMatchObject({ verdict: newest.verdict, auditedAt: newest.auditedAt });

  const summary = await reader.summary();
  const expected: Partial<Record<Verdict, number>> = {};
  let bytes = 0;
  for (const state of states.values()) {
    expected[state.verdict] = (expected[state.verdict] ?? 0) + 1;
    bytes += state.size;
  }
  expect(summary.overall.objects).toBe(objects.length);
  expect(summary.overall.bytes).toBe(bytes);
  expect(summary.buckets.race!.verdicts).toEqual(expected);
});

test('a finding older than the stored one does not overwrite it (out-of-order delivery)', async () => {
  const store = new DynamoFindingsStore(clients.documents, TABLE);
  await store.record([finding('ordered', 'compliant', '2026-11-23T12:00:00.000Z')]);
  await store.record([finding('ordered', 'noncompliant', '2026-11-23T11:00:00.000Z')]);
  const [state] = await collect(store);
  expect(state).toMatchObject({ verdict: 'compliant', rev: 1 });
  expect(await store.history('race', 'ordered')).toHaveLength(1);
});

test('a fix overtaken by a newer audit is kept in the history without touching the state', async () => {
  const store = new DynamoFindingsStore(clients.documents, TABLE);
  await store.record([{ ...finding('fixed-late', 'compliant', '2026-11-23T12:00:00.000Z'), sequencer: '00F0' }]);
  const remediation = { action: 'copy', outcome: 'fixed', at: '2026-11-23T11:00:00.000Z', before: { mode: 'dsse-kms' as const } };
  await store.record([{ ...finding('fixed-late', 'compliant', '2026-11-23T11:00:00.000Z'), sequencer: '00E5', remediation }]);
  const history = await store.history('race', 'fixed-late');
  // History is in time order: the fix (11:00) came before the audit that overtook it (12:00).
  expect(history.map((h) => h.remediation?.outcome)).toEqual(['fixed', undefined]);
  const summary = await store.summary();
  expect(summary.buckets.race?.objects).toBe(22); // 20 racing objects, 'ordered', this one: counted once
});

async function collect(store: DynamoFindingsStore) {
  const out = [];
  for await (const page of store.findings({ bucket: 'race' })) out.push(...page.filter((f) => f.key === 'ordered'));
  return out;
}

test('a lifecycle transition (storage class alone) rewrites the state, writes no history entry, and leaves the chain whole', async () => {
  const store = new DynamoFindingsStore(clients.documents, TABLE);
  const standard: Finding = { ...finding('transitioned', 'compliant', '2026-11-23T12:00:00.000Z'), bucket: 'lifecycle', etag: '"e1"', storageClass: 'STANDARD' };
  await store.record([standard]);
  await store.record([{ ...standard, storageClass: 'STANDARD_IA', auditedAt: '2026-11-24T12:00:00.000Z' }]);
  const [state] = [...(await store.statesOf('lifecycle', ['transitioned'])).values()];
  expect(state).toMatchObject({ storageClass: 'STANDARD_IA', rev: 2, lastSeen: '2026-11-24T12:00:00.000Z' });
  const history = (await store.history('lifecycle', 'transitioned')).map((entry, i): StoredHistoryEntry => ({ ...entry, sk: `HIST#${i}` }));
  expect(history).toHaveLength(1);
  expect(checkChain('lifecycle/transitioned', history, state!.chainHead)).toMatchObject({ problems: [], chained: 1 });
  expect((await store.summary()).buckets.lifecycle).toMatchObject({ objects: 1, verdicts: { compliant: 1 } });
});
