// A fix folded from an S3 Batch Operations completion report is a link of its object's history chain
// (as a per-object fix is), not an entry sealed alone: removing it from the table, or editing it, is
// caught by the next evidence pack and by `evidence verify`.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../shared/config.ts';
import { auditObjectInDetail } from '../../shared/audit/audit-object.ts';
import { BatchJobStore } from '../../shared/findings/batch-job-store.ts';
import { ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { checkChain, type StoredHistoryEntry } from '../../shared/findings/history-chain.ts';
import { createRuntime, scanDependencies } from '../../shared/runtime.ts';
import { createBucket, createKey, type TestKey } from '../support/aws-fixtures.ts';
import { foldSucceededJob } from '../support/batch-fold.ts';
import { runCli } from '../support/cli.ts';

const BUCKET = 'evidence-batch-chain';
const REPORTS = 'evidence-batch-chain-reports';
const TABLE = 'evidence-batch-chain-findings';
const CLI_TIMEOUT_MS = 240_000;
Object.assign(process.env, { SSEGUARD_TABLE: TABLE });
delete process.env.SSEGUARD_POLICY;
const runtime = () => createRuntime(loadConfig());
const workdir = mkdtempSync(join(tmpdir(), 'sseguard-evidence-batch-'));
const sseguard = (args: string[]) => runCli(args, { SSEGUARD_TABLE: TABLE });
let key: TestKey;

const historyOf = async (objectKey: string): Promise<StoredHistoryEntry[]> => {
  const { clients } = runtime();
  const { Items } = await clients.documents.send(
    new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :h)', ExpressionAttributeValues: { ':pk': `OBJ#${BUCKET}/${objectKey}`, ':h': 'HIST#' } }),
  );
  return (Items ?? []).map(({ pk: _pk, ...entry }) => entry as StoredHistoryEntry);
};

/** Records the object as audited now (its first history entry), then folds a Batch job that fixed it. */
async function foldedFix(objectKey: string, jobId: string): Promise<void> {
  const { clients, config } = runtime();
  await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: objectKey, Body: objectKey, ServerSideEncryption: 'AES256' }));
  const deps = { ...(await scanDependencies(runtime())), s3: clients.s3, jobs: new BatchJobStore(clients.documents, config.table), store: runtime().store };
  const { finding } = await auditObjectInDetail(deps, BUCKET, { key: objectKey, size: 0 });
  await deps.store.record([finding]);
  const { result } = await foldSucceededJob(deps, {
    recordId: `record-${jobId}`,
    jobId,
    bucket: BUCKET,
    reportBucket: REPORTS,
    target: { kmsKeyArn: key.arn, bucketKey: true },
    versioned: false,
    tasks: [{ key: objectKey }],
  });
  expect(result).toMatchObject({ deferred: 0, folded: true });
  // The object changes afterwards: its next audit links after the folded fix. S3's LastModified has
  // one-second precision: a write in the same second could not be ordered after the recorded one.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: objectKey, Body: `${objectKey} v2`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn }));
  await deps.store.record([(await auditObjectInDetail(deps, BUCKET, { key: objectKey, size: 0 })).finding]);
}

beforeAll(async () => {
  const { config, clients } = runtime();
  await ensureFindingsTable(clients.dynamodb, config.table);
  await createBucket(clients, BUCKET);
  await createBucket(clients, REPORTS);
  key = await createKey(clients);
  await foldedFix('removed.txt', 'job-removed');
  await foldedFix('edited.txt', 'job-edited');
}, CLI_TIMEOUT_MS);

describe('Batch-folded fixes in the history chain', { timeout: CLI_TIMEOUT_MS }, () => {
  test('the folded fix entry links after the object\'s audit, and the next audit links after it; the chain holds', async () => {
    const entries = await historyOf('removed.txt');
    const fold = entries.find((e) => e.remediation?.batchJobId === 'job-removed')!;
    expect(fold).toBeDefined();
    expect(fold.sealedAlone).toBeUndefined();
    const first = entries.find((e) => e.rev === 1)!;
    expect(fold.prevHash).toBe(first.hash);
    expect(entries.find((e) => e.prevHash === fold.hash)).toMatchObject({ mode: 'sse-kms' });
    const state = (await runtime().store.statesOf(BUCKET, ['removed.txt'])).get('removed.txt')!;
    expect(checkChain(`${BUCKET}/removed.txt`, entries, state.chainHead)).toMatchObject({ problems: [], unchained: 0, chained: 3 });
    const made = await sseguard(['evidence', '--out', join(workdir, 'intact'), '--bucket', BUCKET, '--json']);
    expect(made.code, made.stderr).toBe(0);
    expect((await sseguard(['evidence', 'verify', join(workdir, 'intact')])).stdout).not.toContain('history.jsonl');
  });

  test('a folded fix entry removed from the table, or edited: the next pack says so and verify fails naming it', async () => {
    const { clients } = runtime();
    const removed = (await historyOf('removed.txt')).find((e) => e.remediation?.batchJobId === 'job-removed')!;
    await clients.documents.send(new DeleteCommand({ TableName: TABLE, Key: { pk: `OBJ#${BUCKET}/removed.txt`, sk: removed.sk } }));
    const edited = (await historyOf('edited.txt')).find((e) => e.remediation?.batchJobId === 'job-edited')!;
    await clients.documents.send(
      new UpdateCommand({ TableName: TABLE, Key: { pk: `OBJ#${BUCKET}/edited.txt`, sk: edited.sk }, UpdateExpression: 'SET remediation.outcome = :o', ExpressionAttributeValues: { ':o': 'batch-task-failed' } }),
    );
    const dir = join(workdir, 'tampered');
    const made = await sseguard(['evidence', '--out', dir, '--bucket', BUCKET]);
    expect(made.code).toBe(1);
    const verified = await sseguard(['evidence', 'verify', dir]);
    expect(verified.code).toBe(1);
    const next = (await historyOf('removed.txt')).find((e) => e.prevHash === removed.hash)!;
    expect(verified.stdout).toContain(`history.jsonl: ${BUCKET}/removed.txt: history entry ${next.sk} links to an entry that is missing (removed)`);
    expect(verified.stdout).toContain(`history.jsonl: ${BUCKET}/edited.txt: history entry ${edited.sk} does not match its hash (edited)`);
  });
});
