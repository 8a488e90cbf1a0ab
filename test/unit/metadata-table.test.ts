// The metadata-table tier's pure parts (the SQL, the reading of result rows, the decision rule for
// rows that carry the key and the envelope) and the Athena paths moto cannot produce (a failed
// query, a query that never ends), with a recorded-shape fake at the Athena client boundary.
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import type { Pluggable } from '@smithy/types';
import { describe, expect, test } from 'vitest';
import { decideFromInventory } from '../../shared/inventory/decide.ts';
import { InventoryError } from '../../shared/inventory/errors.ts';
import { athenaMetadataSource } from '../../shared/metadata/athena-source.ts';
import { changedObjectsQuery, currentObjectsQuery, journalCoverageQuery, metadataTableOf, phaseWindowPredicate, rowFromResult } from '../../shared/metadata/query.ts';
import { phaseInWindow } from '../../shared/inventory/reverify.ts';
import { DuckDBInstance } from '@duckdb/node-api';

const KEY = 'arn:aws:kms:us-east-1:111122223333:key/aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';

describe('the query', () => {
  test('names the bucket\'s live inventory table, quotes identifiers and literals, pushes the prefix down', () => {
    const sql = currentObjectsQuery(metadataTableOf("it's-a-bucket"), "it's-a-bucket", "o'hara/");
    expect(sql).toContain(`FROM "s3tablescatalog/aws-s3"."b_it's-a-bucket"."inventory"`);
    expect(sql).toContain(`WHERE bucket = 'it''s-a-bucket' AND starts_with(key, 'o''hara/')`);
    // One row per key: the newest by sequence_number, and not a delete marker.
    expect(sql).toContain('row_number() OVER (PARTITION BY key ORDER BY sequence_number DESC)');
    expect(sql).toContain('WHERE sseguard_newest = 1 AND coalesce(is_delete_marker, false) = false');
    // Only the envelope's names of user_metadata, with and without x-amz-meta-.
    expect(sql).toContain("'x-amz-key-v2', 'x-amz-meta-x-amz-key-v2'");
  });

  test('a namespace or catalog given by the user replaces the default; a double quote in a name is doubled', () => {
    const sql = currentObjectsQuery(metadataTableOf('b', { namespace: 'my"ns', catalog: 'AwsDataCatalog' }), 'b');
    expect(sql).toContain('FROM "AwsDataCatalog"."my""ns"."inventory"');
    expect(sql).not.toContain('starts_with');
  });
});

describe('the query of what changed since the last verified run', () => {
  const since = new Date('2026-12-01T10:00:00.000Z');
  const window = { periodMs: 30 * 86_400_000, afterMs: since.getTime(), untilMs: Date.parse('2026-12-02T10:00:00.000Z') };

  test('asks the journal for keys with a record at or after the watermark, and the live table for their current rows only', () => {
    const sql = changedObjectsQuery(metadataTableOf("it's"), "it's", since, window, 'p/');
    expect(sql).toContain(`SELECT DISTINCT key FROM "s3tablescatalog/aws-s3"."b_it's"."journal"`);
    expect(sql).toContain(`WHERE bucket = 'it''s' AND starts_with(key, 'p/') AND record_timestamp >= from_iso8601_timestamp('2026-12-01T10:00:00.000Z')`);
    expect(sql).toContain(`FROM "s3tablescatalog/aws-s3"."b_it's"."inventory"`);
    expect(sql).toContain("WHERE key IN (SELECT key FROM sseguard_journal) OR (encryption_status IN ('SSE-KMS', 'DSSE-KMS') AND ");
    // A key the journal names that the live table no longer lists: once, as vanished.
    expect(sql).toContain("'vanished' AS sseguard_change");
    expect(sql).toContain('WHERE NOT EXISTS (SELECT 1 FROM sseguard_live l WHERE l.key = j.key)');
    expect(journalCoverageQuery(metadataTableOf('b'), 'b')).toBe(`SELECT min(record_timestamp) AS oldest FROM "s3tablescatalog/aws-s3"."b_b"."journal" WHERE bucket = 'b'`);
  });

  test('without a re-check window (a whole period or more) every KMS object is re-read; an empty window none', () => {
    expect(changedObjectsQuery(metadataTableOf('b'), 'b', since, { ...window, untilMs: window.afterMs + window.periodMs })).toContain("IN ('SSE-KMS', 'DSSE-KMS') AND true)");
    expect(phaseWindowPredicate('phase', { ...window, untilMs: window.afterMs })).toBe('false');
  });

  test('the re-check window predicate, run by DuckDB over every phase of a period, selects exactly the phases reverify.ts selects (windows inside, across and past the period\'s end)', async () => {
    const periodMs = 1000;
    const windows = [
      [0, 1], [10, 400], [999, 1000], [1500, 1999], [1700, 2300], [2950, 3050], [123, 1122], [5, 1005], [40, 40], [7000, 7999],
    ] as const;
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      for (const [afterMs, untilMs] of windows) {
        const predicate = phaseWindowPredicate('phase', { periodMs, afterMs, untilMs });
        const reader = await connection.runAndReadAll(`SELECT phase FROM range(0, ${periodMs}) t(phase) WHERE ${predicate} ORDER BY phase`);
        const selected = reader.getRows().map((r) => Number(r[0]));
        const expected = Array.from({ length: periodMs }, (_, phase) => phase).filter((phase) =>
          phaseInWindow(phase, { after: new Date(afterMs), until: new Date(untilMs), periodMs }),
        );
        expect(selected, `window (${afterMs}, ${untilMs}]`).toEqual(expected);
      }
    } finally {
      connection.closeSync();
    }
  });
});

describe('result rows', () => {
  const cells = {
    key: 'a/b.txt', version_id: 'null', size: '42', last_modified_date: '2026-11-30 01:02:03.123000', e_tag: 'e1',
    storage_class: 'STANDARD', encryption_status: 'SSE-KMS', is_bucket_key_enabled: 'true', kms_key_arn: KEY, checksum_algorithm: '',
    envelope_metadata: '{"x-amz-meta-x-amz-key-v2":"a2V5","X-Amz-Iv":"aXY="}',
  };

  test('become inventory rows with the key ARN and the envelope names, NULLs left out, times in ISO 8601', () => {
    expect(rowFromResult('bkt', cells, 'here')).toEqual({
      bucket: 'bkt', key: 'a/b.txt', isDeleteMarker: false, size: 42, lastModified: '2026-11-30T01:02:03.123Z', etag: 'e1',
      storageClass: 'STANDARD', encryptionStatus: 'SSE-KMS', bucketKeyEnabled: true, kmsKeyArn: KEY,
      userMetadata: { 'x-amz-key-v2': 'a2V5', 'x-amz-iv': 'aXY=' },
    });
  });

  test.each([
    ['encryption_status', 'AES256', /encryption_status "AES256" is not one of/],
    ['size', '-1', /size "-1" is not a whole number/],
    ['last_modified_date', 'yesterday', /not a timestamp/],
    ['is_bucket_key_enabled', 'ENABLED', /is_bucket_key_enabled "ENABLED"/],
    ['envelope_metadata', '{not json', /envelope_metadata is not JSON/],
    ['key', '', /a row without key/],
  ])('a bad %s is an error that says where, never a guess', (column, value, message) => {
    expect(() => rowFromResult('bkt', { ...cells, [column]: value }, 's3://r/q.csv')).toThrow(message);
  });
});

describe('rows that carry the key ARN and the user metadata are decided without a HeadObject', () => {
  const metadataRow = rowFromResult('b', { key: 'k', size: '1', e_tag: 'e', encryption_status: 'SSE-KMS', is_bucket_key_enabled: 'false', kms_key_arn: KEY, envelope_metadata: '{}' }, 'x');

  test('a new KMS object: its key from the row, even when client-side encryption matters', () => {
    for (const clientSideMatters of [false, true]) {
      expect(decideFromInventory(metadataRow, undefined, { clientSideMatters })).toMatchObject({ evidence: 'inventory', facts: { mode: 'sse-kms', kmsKeyArn: KEY } });
    }
  });

  test('an S3 Encryption Client envelope makes it client-side, over its server-side layer, as a HEAD would', () => {
    const row = { ...metadataRow, userMetadata: { 'x-amz-key-v2': 'a2V5', 'x-amz-iv': 'aXY=', 'x-amz-cek-alg': 'AES/GCM/NoPadding' } };
    expect(decideFromInventory(row, undefined, { clientSideMatters: true })).toMatchObject({
      evidence: 'inventory',
      facts: { mode: 'client-side', kmsKeyArn: KEY, clientSide: { envelope: 'v2', contentAlgorithm: 'AES/GCM/NoPadding', serverSideMode: 'sse-kms' } },
    });
  });

  test('a KMS row without kms_key_arn falls back to the report rules (a new object needs a HeadObject)', () => {
    const { kmsKeyArn: _none, ...row } = metadataRow;
    expect(decideFromInventory(row, undefined, { clientSideMatters: false })).toEqual({ needsHead: true, why: 'new' });
  });
});

// ---------------------------------------------------------------- Athena paths moto cannot produce

function athenaAnswering(answer: (command: string, input: Record<string, unknown>) => unknown): { client: AthenaClient; calls: string[] } {
  const client = new AthenaClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const calls: string[] = [];
  const plugin: Pluggable<object, object> = {
    applyToStack(stack) {
      stack.add(
        (_next, context) => async (args) => {
          calls.push(context.commandName ?? '');
          return { output: { $metadata: { httpStatusCode: 200 }, ...(answer(context.commandName ?? '', args.input as Record<string, unknown>) as object) }, response: {} };
        },
        { step: 'initialize', name: 'recordedAnswer' },
      );
    },
  };
  (client.middlewareStack as unknown as { use(p: Pluggable<object, object>): void }).use(plugin);
  return { client, calls };
}

const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const options = { workGroup: 'primary', lagMs: 0, timeoutMs: 60_000, pollMs: { first: 1, max: 2 } };

test('recorded-shape fake at the Athena client boundary: a FAILED query (no such table) is an error with Athena\'s reason, never an empty bucket', async () => {
  const { client } = athenaAnswering((command) =>
    command === 'StartQueryExecutionCommand'
      ? { QueryExecutionId: 'q-1' }
      : {
          QueryExecution: {
            QueryExecutionId: 'q-1',
            Status: { State: 'FAILED', StateChangeReason: "TABLE_NOT_FOUND: line 5:8: Table 's3tablescatalog/aws-s3.b_b.inventory' does not exist" },
          },
        },
  );
  const error = await athenaMetadataSource(client, s3, options).newest('b').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InventoryError);
  expect(error).toMatchObject({ code: 'query-failed', message: expect.stringContaining('TABLE_NOT_FOUND') });
});

test('recorded-shape fake at the Athena client boundary: a query still RUNNING at the deadline is stopped and reported', async () => {
  const { client, calls } = athenaAnswering((command) =>
    command === 'StartQueryExecutionCommand' ? { QueryExecutionId: 'q-2' } : command === 'GetQueryExecutionCommand' ? { QueryExecution: { QueryExecutionId: 'q-2', Status: { State: 'RUNNING' } } } : {},
  );
  const error = await athenaMetadataSource(client, s3, { ...options, timeoutMs: 20 }).newest('b').catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'query-failed', message: expect.stringMatching(/still RUNNING after .* stopped/) });
  expect(calls).toContain('StopQueryExecutionCommand');
});

test('recorded-shape fake at the Athena client boundary: a succeeded query is a one-file report dated the query minus the lag, in the output location', async () => {
  const { client, calls } = athenaAnswering((command, input) => {
    if (command === 'StartQueryExecutionCommand') {
      expect(input).toMatchObject({ WorkGroup: 'audits', ResultConfiguration: { OutputLocation: 's3://results/p/' } });
      return { QueryExecutionId: 'q-3' };
    }
    return { QueryExecution: { QueryExecutionId: 'q-3', Status: { State: 'SUCCEEDED' }, ResultConfiguration: { OutputLocation: 's3://results/p/q-3.csv' } } };
  });
  const now = new Date('2026-12-01T12:00:00Z');
  const report = await athenaMetadataSource(client, s3, { ...options, workGroup: 'audits', outputLocation: 's3://results/p/', lagMs: 3_600_000, clock: () => now }).newest('b');
  expect(report).toMatchObject({
    evidence: 'metadata-table',
    destination: { bucket: 'results' },
    manifest: { sourceBucket: 'b', createdAt: new Date('2026-12-01T11:00:00Z'), files: [{ key: 'p/q-3.csv' }] },
  });
  expect(calls).toEqual(['StartQueryExecutionCommand', 'GetQueryExecutionCommand']);
});
