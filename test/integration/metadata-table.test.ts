// `sseguard scan --metadata-table`: the S3 Metadata tier through Athena, against the emulator.
// moto serves Athena's API but runs no SQL: the test queues, as the query's answer, the rows the
// bucket's live inventory table would hold (built from the objects themselves), and checks the SQL
// sseguard sent separately. Verdicts equal a HEAD scan's, with zero HeadObject requests.
import { GetQueryExecutionCommand, ListQueryExecutionsCommand } from '@aws-sdk/client-athena';
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { createAthenaClient } from '../../shared/metadata/athena-client.ts';
import { RESULT_COLUMNS } from '../../shared/metadata/query.ts';
import { createBucket, createKey, disableKey, putObject, sseCHeaders, type TestKey } from '../support/aws-fixtures.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { runCli, verdictsOf } from '../support/cli.ts';

const emulator = inject('emulatorEndpoint');
const SOURCE = 'metadata-source';
const RESULTS = 'metadata-athena-results';
const writer = createAwsClients({ maxSockets: 16 });
const athena = createAthenaClient();
let proxy: FaultProxy;
let enabled: TestKey;
const SSE_C_KEYS = new Set<string>();

const sseguard = (args: string[], env: Record<string, string | undefined> = {}) => runCli(args, env);

type Cell = { VarCharValue: string } | Record<string, never>;
const cell = (value: string | undefined): Cell => (value === undefined ? {} : { VarCharValue: value });
const athenaTime = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '000');

/** What the bucket's live inventory table holds now, as Athena would answer the query (header row first). */
async function tableRows(except: string[] = []): Promise<{ Data: Cell[] }[]> {
  const rows: { Data: Cell[] }[] = [{ Data: RESULT_COLUMNS.map((c) => cell(c)) }];
  const listed = await writer.s3.send(new ListObjectsV2Command({ Bucket: SOURCE }));
  for (const object of listed.Contents ?? []) {
    if (except.includes(object.Key!)) continue;
    const head = await writer.s3.send(new HeadObjectCommand({ Bucket: SOURCE, Key: object.Key!, ...(SSE_C_KEYS.has(object.Key!) ? sseCHeaders : {}) }));
    const status = head.SSECustomerAlgorithm
      ? 'SSE-C'
      : head.ServerSideEncryption === 'aws:kms'
        ? 'SSE-KMS'
        : head.ServerSideEncryption === 'aws:kms:dsse'
          ? 'DSSE-KMS'
          : head.ServerSideEncryption === 'AES256'
            ? 'SSE-S3'
            : 'NOT-SSE';
    const envelope = Object.fromEntries(Object.entries(head.Metadata ?? {}).filter(([name]) => name.startsWith('x-amz-')));
    const values: Record<(typeof RESULT_COLUMNS)[number], string | undefined> = {
      key: object.Key!,
      version_id: undefined,
      size: String(head.ContentLength),
      last_modified_date: athenaTime(head.LastModified!),
      e_tag: head.ETag!.replace(/"/g, ''),
      storage_class: head.StorageClass ?? 'STANDARD',
      encryption_status: status,
      is_bucket_key_enabled: String(Boolean(head.BucketKeyEnabled)),
      kms_key_arn: head.SSEKMSKeyId,
      checksum_algorithm: undefined,
      envelope_metadata: JSON.stringify(envelope),
    };
    rows.push({ Data: RESULT_COLUMNS.map((c) => cell(values[c])) });
  }
  return rows;
}

/** The journal coverage query's answer: its oldest record (undefined: NULL, an empty journal). */
const journalFrom = (oldest: Date | undefined) => answerNextQueryWith([{ Data: [cell('oldest')] }, { Data: [cell(oldest ? athenaTime(oldest) : undefined)] }], ['oldest']);

async function answerNextQueryWith(rows: { Data: Cell[] }[], columns: readonly string[] = RESULT_COLUMNS): Promise<void> {
  const column_info = columns.map((name) => ({ Name: name, Label: name, Type: 'varchar', CatalogName: 'hive', SchemaName: '', TableName: '', Nullable: 'UNKNOWN', CaseSensitive: true }));
  const response = await fetch(`${emulator}/moto-api/static/athena/query-results`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ region: process.env.AWS_REGION ?? 'us-east-1', results: [{ rows, column_info }] }),
  });
  expect(response.status).toBe(201);
}

beforeAll(async () => {
  proxy = await startFaultProxy({ target: emulator });
  enabled = await createKey(writer, { rotation: true });
  const disabled = await createKey(writer, { rotation: true });
  await createBucket(writer, SOURCE);
  await createBucket(writer, RESULTS);
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < 24; i++) {
    // A key with a comma and a double quote: the result CSV must quote it, the reader must read it back.
    const key = i === 0 ? 'odd, "quoted" key' : `obj-${String(i).padStart(3, '0')}`;
    const mode = i % 6;
    if (mode === 0) writes.push(putObject(writer, SOURCE, key, { mode: 'sse-s3' }));
    if (mode === 1) writes.push(putObject(writer, SOURCE, key, { mode: 'sse-kms', key: enabled, bucketKey: true }));
    if (mode === 2) writes.push(putObject(writer, SOURCE, key, { mode: 'sse-kms', key: disabled }));
    if (mode === 3) writes.push(putObject(writer, SOURCE, key, { mode: 'dsse-kms', key: enabled }));
    if (mode === 4) {
      SSE_C_KEYS.add(key);
      writes.push(putObject(writer, SOURCE, key, { mode: 'sse-c' }));
    }
    if (mode === 5) {
      // Written by the S3 Encryption Client (v2 envelope in user metadata) over SSE-KMS.
      writes.push(
        writer.s3.send(
          new PutObjectCommand({
            Bucket: SOURCE, Key: key, Body: 'ciphertext', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: enabled.arn,
            Metadata: { 'x-amz-key-v2': 'a2V5', 'x-amz-iv': 'aXY=', 'x-amz-cek-alg': 'AES/GCM/NoPadding', 'x-amz-wrap-alg': 'kms+context', 'x-amz-matdesc': '{}' },
          }),
        ),
      );
    }
  }
  await Promise.all(writes);
  await disableKey(writer, disabled);
  for (const table of ['meta-head-findings', 'meta-table-findings']) expect((await sseguard(['init'], { SSEGUARD_TABLE: table })).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
});

const POLICY = '{"version":1,"default":{"clientSide":{"accept":"forbidden"}}}';

test('a metadata-table scan gives exactly the verdicts of a HEAD scan with no HeadObject; the query names the table, the bucket and the current rows; a row gone from the table removes its finding', async () => {
  const policyFile = `${process.env.TMPDIR ?? '/tmp'}/sseguard-metadata-policy-${process.pid}.json`;
  await import('node:fs/promises').then((fs) => fs.writeFile(policyFile, POLICY));
  const head = await sseguard(['scan', '--bucket', SOURCE, '--policy', policyFile, '--json'], { SSEGUARD_TABLE: 'meta-head-findings' });
  expect(head.stderr).toBe('');
  const byHead = verdictsOf(head.stdout);
  expect(Object.keys(byHead)).toHaveLength(24);
  expect(new Set(Object.values(byHead))).toEqual(new Set(['compliant', 'at-risk', 'noncompliant']));

  const scan = (extra: string[] = []) =>
    sseguard(['scan', '--bucket', SOURCE, '--policy', policyFile, '--metadata-table', '--athena-output', `s3://${RESULTS}/sseguard/`, '--json', ...extra], {
      SSEGUARD_TABLE: 'meta-table-findings',
      AWS_ENDPOINT_URL: proxy.endpoint,
    });
  await answerNextQueryWith(await tableRows());
  proxy.resetStats();
  const first = await scan();
  expect(first.stderr).toBe('');
  expect(verdictsOf(first.stdout)).toEqual(byHead);
  const stats = proxy.stats().requests;
  expect(stats['s3:HeadObject'] ?? 0).toBe(0);
  expect(stats['athena:StartQueryExecution']).toBe(1);
  const summary = JSON.parse(first.stdout).summary;
  expect(summary.inventory).toMatchObject({ evidence: 'metadata-table', rows: 24, byInventory: 24, byHead: 0, removed: 0 });

  // The SQL sseguard sent (moto keeps it; it does not run it).
  const { QueryExecutionIds } = await athena.send(new ListQueryExecutionsCommand({}));
  const queries = await Promise.all((QueryExecutionIds ?? []).map((id) => athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))));
  const sql = queries.map((q) => q.QueryExecution?.Query ?? '').find((q) => q.includes(SOURCE))!;
  expect(sql).toContain(`FROM "s3tablescatalog/aws-s3"."b_${SOURCE}"."inventory"`);
  expect(sql).toContain(`WHERE bucket = '${SOURCE}'`);
  expect(sql).toContain('sseguard_newest = 1 AND coalesce(is_delete_marker, false) = false');

  const report = await sseguard(['report', '--format', 'json', '--bucket', SOURCE], { SSEGUARD_TABLE: 'meta-table-findings' });
  const reported = JSON.parse(report.stdout).findings as { key: string; evidence: string | null; kmsKeyArn?: string | null; mode: string }[];
  expect(reported.every((f) => f.evidence === 'metadata-table')).toBe(true);
  expect(reported.find((f) => f.key === 'obj-001')).toMatchObject({ mode: 'sse-kms', kmsKeyArn: enabled.arn });
  expect(reported.find((f) => f.key === 'obj-005')).toMatchObject({ mode: 'client-side' });

  // Unchanged table, one row gone: with no lag allowed the gone object is removed, nothing else is written.
  // (The first run was verified, but the journal holds no record: every current object is read again.)
  await journalFrom(undefined);
  await answerNextQueryWith(await tableRows(['obj-003']));
  proxy.resetStats();
  const second = await scan(['--metadata-lag', '0']);
  expect(second.stderr).toBe('');
  expect(JSON.parse(second.stdout).summary.inventory).toMatchObject({ rows: 23, byHead: 0, removed: 1, diff: { fallback: `the journal holds no record of ${SOURCE}` } });
  const expected = { ...byHead };
  delete expected['obj-003'];
  expect(verdictsOf(second.stdout)).toEqual(expected);
  expect(proxy.stats().requests['s3:HeadObject'] ?? 0).toBe(0);
  const after = JSON.parse((await sseguard(['report', '--format', 'json', '--bucket', SOURCE], { SSEGUARD_TABLE: 'meta-table-findings' })).stdout).findings as { key: string }[];
  expect(after.map((f) => f.key)).not.toContain('obj-003');
}, 180_000);

test('Athena throttling and 5xx on every call path are retried: the verdicts are the same and the query runs once', async () => {
  const faulty = await startFaultProxy({ target: emulator, seed: 7, rules: [{ service: 'athena', rate: 0.5, kind: 'throttle' }, { service: 's3', operation: 'GetObject', rate: 0.5, kind: 'server-error' }] });
  try {
    await answerNextQueryWith(await tableRows());
    const run = await sseguard(['scan', '--bucket', SOURCE, '--metadata-table', '--athena-output', `s3://${RESULTS}/faults/`, '--json', '--no-record'], {
      AWS_ENDPOINT_URL: faulty.endpoint,
      SSEGUARD_MAX_ATTEMPTS: '8',
    });
    expect(run.stderr).toBe('');
    const stats = faulty.stats();
    expect(stats.faults['athena:StartQueryExecution:throttle'] ?? 0).toBeGreaterThan(0);
    // Throttled starts were retried with the SDK's idempotency token: one query reached Athena.
    expect(stats.forwarded['athena:StartQueryExecution']).toBe(1);
    expect(JSON.parse(run.stdout).summary.inventory).toMatchObject({ rows: 24, byHead: 0 });
    expect(JSON.parse(run.stdout).summary.notAudited).toBe(0);
  } finally {
    await faulty.close();
  }
}, 120_000);

test('a verified metadata-table run is the next run\'s watermark: only the journal\'s changes since are asked for and audited, a vanished key is removed, the rest keep their findings; a journal that may have expired records means a full read', async () => {
  const table = 'meta-incremental-findings';
  expect((await sseguard(['init'], { SSEGUARD_TABLE: table })).code).toBe(0);
  const scan = (extra: string[] = []) =>
    sseguard(['scan', '--bucket', SOURCE, '--metadata-table', '--athena-output', `s3://${RESULTS}/incremental/`, '--metadata-lag', '0', '--json', ...extra], {
      SSEGUARD_TABLE: table,
      AWS_ENDPOINT_URL: proxy.endpoint,
    });
  const columns = [...RESULT_COLUMNS, 'sseguard_change'];
  /** The incremental query's answer: current rows of `changed` (from the bucket itself), and `vanished` keys with every other column NULL. */
  async function changes(changed: string[], vanished: string[]): Promise<{ Data: Cell[] }[]> {
    const current = (await tableRows()).slice(1).filter((row) => changed.includes((row.Data[0] as { VarCharValue: string }).VarCharValue));
    expect(current).toHaveLength(changed.length);
    return [
      { Data: columns.map((c) => cell(c)) },
      ...current.map((row) => ({ Data: [...row.Data, cell('changed')] })),
      ...vanished.map((key) => ({ Data: columns.map((c) => (c === 'key' ? cell(key) : c === 'sseguard_change' ? cell('vanished') : cell(undefined))) })),
    ];
  }

  // 1. No earlier verified run: every current object, and the run is verified.
  await answerNextQueryWith(await tableRows());
  const first = await scan();
  expect(first.stderr).toBe('');
  const firstSummary = JSON.parse(first.stdout).summary.inventory;
  expect(firstSummary).toMatchObject({ rows: 24, diff: { fallback: 'no earlier verified metadata-table run' } });
  const watermark = firstSummary.reportDate as string;

  // 2. One object rewritten (at-risk → SSE-S3), one deleted: the journal names both.
  await putObject(writer, SOURCE, 'obj-002', { mode: 'sse-s3' });
  await writer.s3.send(new DeleteObjectCommand({ Bucket: SOURCE, Key: 'obj-008' }));
  await journalFrom(new Date(Date.parse(watermark) - 86_400_000));
  await answerNextQueryWith(await changes(['obj-002'], ['obj-008']), columns);
  proxy.resetStats();
  const second = await scan();
  expect(second.stderr).toBe('');
  const summary = JSON.parse(second.stdout).summary.inventory;
  expect(summary).toMatchObject({ rows: 1, byInventory: 1, byHead: 0, removed: 1, diff: { previousReportDate: watermark } });
  expect(summary.diff.fallback).toBeUndefined();
  expect(verdictsOf(second.stdout)).toEqual({ 'obj-002': 'compliant' });
  expect(proxy.stats().requests['athena:StartQueryExecution']).toBe(2);
  // The bucket's recorded findings still gate the run: 23 objects, the disabled key's at-risk ones among them.
  expect(summary.diff.recordedVerdicts['at-risk']).toBeGreaterThan(0);
  expect(second.code).toBe(1);
  expect(second.stdout).not.toContain('"empty":true');

  const { QueryExecutionIds } = await athena.send(new ListQueryExecutionsCommand({}));
  const sent = await Promise.all((QueryExecutionIds ?? []).map((id) => athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))));
  const sql = sent.map((q) => q.QueryExecution?.Query ?? '');
  expect(sql).toContain(`SELECT min(record_timestamp) AS oldest FROM "s3tablescatalog/aws-s3"."b_${SOURCE}"."journal" WHERE bucket = '${SOURCE}'`);
  expect(sql.some((q) => q.includes(`record_timestamp >= from_iso8601_timestamp('${watermark}')`))).toBe(true);

  const reported = JSON.parse((await sseguard(['report', '--format', 'json', '--bucket', SOURCE], { SSEGUARD_TABLE: table })).stdout).findings as { key: string; mode: string; verdict: string }[];
  expect(reported).toHaveLength(23);
  expect(reported.map((f) => f.key)).not.toContain('obj-008');
  expect(reported.find((f) => f.key === 'obj-002')).toMatchObject({ mode: 'sse-s3', verdict: 'compliant' });

  // 3. The journal's oldest record is after the last verified run: records may have expired, every current object is read.
  await journalFrom(new Date());
  await answerNextQueryWith(await tableRows());
  const third = await scan();
  expect(third.stderr).toBe('');
  const thirdSummary = JSON.parse(third.stdout).summary.inventory;
  expect(thirdSummary.rows).toBe(23);
  expect(thirdSummary.diff.fallback).toMatch(/records may have expired/);
}, 180_000);

test('an incremental run under faults: the journal check\'s GetQueryResults throttled and the result file\'s GetObject failing are retried; nothing unaudited, the watermark still used', async () => {
  const table = 'meta-incremental-findings';
  const faulty = await startFaultProxy({
    target: emulator,
    rules: [
      { service: 'athena', operation: 'GetQueryResults', rate: 1, kind: 'throttle', times: 2 },
      { service: 'athena', operation: 'GetQueryExecution', rate: 1, kind: 'server-error', times: 1 },
      { service: 's3', operation: 'GetObject', rate: 1, kind: 'server-error', times: 2 },
    ],
  });
  try {
    await journalFrom(new Date(Date.now() - 86_400_000));
    const columns = [...RESULT_COLUMNS, 'sseguard_change'];
    await answerNextQueryWith([{ Data: columns.map((c) => cell(c)) }], columns);
    const run = await sseguard(['scan', '--bucket', SOURCE, '--metadata-table', '--athena-output', `s3://${RESULTS}/incremental-faults/`, '--metadata-lag', '0', '--json'], {
      SSEGUARD_TABLE: table,
      AWS_ENDPOINT_URL: faulty.endpoint,
      SSEGUARD_MAX_ATTEMPTS: '8',
    });
    expect(run.stderr).toBe('');
    const stats = faulty.stats();
    expect(stats.faults['athena:GetQueryResults:throttle']).toBe(2);
    expect(stats.faults['s3:GetObject:server-error']).toBe(2);
    const summary = JSON.parse(run.stdout).summary;
    expect(summary.notAudited).toBe(0);
    // Nothing changed since the last verified run: no row, no removal, and the 23 recorded findings stand.
    expect(summary.inventory).toMatchObject({ rows: 0, removed: 0 });
    expect(summary.inventory.diff.fallback).toBeUndefined();
    const recorded = Object.values(summary.inventory.diff.recordedVerdicts as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(recorded).toBe(23);
  } finally {
    await faulty.close();
  }
}, 120_000);
