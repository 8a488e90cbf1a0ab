// `sseguard evidence` over the findings table on the emulator: --org (every account recorded) and
// --account, grouped by account; noncurrent versions as of a time, apart from the population and
// never counted twice; and a pack larger than the HTML's lists, written as the objects pass.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import type { Finding } from '../../shared/domain/finding.ts';
import { verifyPack } from '../../shared/evidence/integrity.ts';
import { HTML_ROWS, type EvidencePack } from '../../shared/evidence/pack.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { runCli } from '../support/cli.ts';

const CLI_TIMEOUT_MS = 240_000;
const TABLE = 'evidence-scope-findings';
const A = '111122223333';
const B = '444455556666';
const workdir = mkdtempSync(join(tmpdir(), 'sseguard-evidence-scope-'));
const clients = createAwsClients();
const store = new DynamoFindingsStore(clients.documents, TABLE);
const sseguard = (args: string[]) => runCli(args, { SSEGUARD_TABLE: TABLE });
const packOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'evidence.json'), 'utf8')) as EvidencePack;

const finding = (bucket: string, key: string, account: string, extra: Partial<Finding> = {}): Finding => ({
  bucket,
  key,
  account,
  region: 'us-east-1',
  size: 100,
  mode: 'sse-s3',
  etag: '"e"',
  verdict: 'compliant',
  reasons: [],
  remediate: false,
  auditedAt: '2026-10-01T00:00:00.000Z',
  ...extra,
});
const noncompliant: Pick<Finding, 'verdict' | 'reasons'> = { verdict: 'noncompliant', reasons: [{ code: 'mode-not-allowed', message: 'SSE-S3 where SSE-KMS is required' }] };

beforeAll(async () => {
  await ensureFindingsTable(clients.dynamodb, TABLE);
  // Two accounts: A has two buckets, B one.
  await store.record([
    finding('scope-a1', 'x.txt', A),
    finding('scope-a2', 'y.txt', A, noncompliant),
    finding('scope-b1', 'z.txt', B, noncompliant),
  ]);
  // Versions of scope-a1/v.txt: v0 noncurrent since September (re-audited in November), v1 noncurrent
  // on record since September 20th and current again from October 1st (the newer version deleted).
  await store.record([finding('scope-a1', 'v.txt', A, { versionId: 'v0', isLatest: false, ...noncompliant, auditedAt: '2026-09-15T00:00:00.000Z' })]);
  await store.record([finding('scope-a1', 'v.txt', A, { versionId: 'v1', isLatest: false, auditedAt: '2026-09-20T00:00:00.000Z' })]);
  await store.record([finding('scope-a1', 'v.txt', A, { versionId: 'v1', auditedAt: '2026-10-01T00:00:00.000Z' })]);
  await store.record([finding('scope-a1', 'v.txt', A, { versionId: 'v0', isLatest: false, ...noncompliant, mode: 'sse-c', auditedAt: '2026-11-01T00:00:00.000Z' })]);
  // More exceptions than the HTML shows, in a bucket of their own.
  const many = Array.from({ length: HTML_ROWS + 40 }, (_, i) => finding('scope-many', `k${String(i).padStart(4, '0')}.txt`, B, noncompliant));
  for (let i = 0; i < many.length; i += 40) await store.record(many.slice(i, i + 40));
}, CLI_TIMEOUT_MS);

describe('evidence scope and size', { timeout: CLI_TIMEOUT_MS }, () => {
  test('--org: every account recorded, population and coverage grouped by account', async () => {
    const dir = join(workdir, 'org');
    const made = await sseguard(['evidence', '--out', dir, '--org']);
    expect(made.stderr).toBe('');
    const pack = packOf(dir);
    expect(pack.scope).toMatchObject({ accounts: [A, B], organization: true });
    expect(pack.population.byAccount[A]).toMatchObject({ objects: 3, verdicts: { compliant: 2, noncompliant: 1 } });
    expect(pack.population.byAccount[B]).toMatchObject({ objects: HTML_ROWS + 41, verdicts: { noncompliant: HTML_ROWS + 41 } });
    expect(pack.coverageByAccount).toEqual([
      { account: A, buckets: 2, never: 0, stale: 2, current: 0, objects: 3 },
      { account: B, buckets: 2, never: 0, stale: 2, current: 0, objects: HTML_ROWS + 41 },
    ]);
    expect(pack.coverage.map((c) => `${c.account}:${c.bucket}`)).toEqual([`${A}:scope-a1`, `${A}:scope-a2`, `${B}:scope-b1`, `${B}:scope-many`]);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('data-testid="coverage-accounts"');
    expect(made.stdout).toContain(`of 2 account(s): ${A}, ${B}`);
  });

  test('--account: only that account, no other account\'s bucket listed as never audited', async () => {
    const dir = join(workdir, 'account');
    expect((await sseguard(['evidence', '--out', dir, '--account', A])).stderr).toBe('');
    const pack = packOf(dir);
    expect(pack.population.objects).toBe(3);
    expect(pack.coverage.map((c) => c.bucket)).toEqual(['scope-a1', 'scope-a2']);
    expect(pack.coverageByAccount).toBeUndefined();
    expect((await sseguard(['evidence', '--out', join(workdir, 'both'), '--org', '--account', A])).code).toBe(2);
    // A folder holding another pack: its files would be signed into this one.
    const again = await sseguard(['evidence', '--out', dir, '--account', A]);
    expect([again.code, again.stderr.trim()]).toEqual([2, `sseguard: error: ${dir} is not empty: a pack is written into a new or empty folder`]);
  });

  test('noncurrent versions apart: as of a time, those first seen by then; the version current then (or now) is not counted again; those audited after the time are marked', async () => {
    const dir = join(workdir, 'versions');
    expect((await sseguard(['evidence', '--out', dir, '--as-of', '2026-10-05T00:00:00Z', '--bucket', 'scope-a1'])).stderr).toBe('');
    const { population } = packOf(dir);
    // v.txt is v1 then (its history), x.txt: two objects; v0 alone is noncurrent, last audited after the time.
    expect(population.objects).toBe(2);
    expect(population.noncurrent).toMatchObject({ objects: 1, bytes: 100, verdicts: { noncompliant: 1 }, recordedAfterAsOf: { objects: 1, verdicts: { noncompliant: 1 } } });
    const now = join(workdir, 'versions-now');
    expect((await sseguard(['evidence', '--out', now, '--bucket', 'scope-a1'])).stderr).toBe('');
    // Now too: v1 is the object (its state), so only v0 is apart.
    expect(packOf(now).population.noncurrent).toMatchObject({ objects: 1, verdicts: { noncompliant: 1 } });
  });

  test('a pack with more exceptions than the HTML shows: the first rows in the HTML, every row in the CSV and in evidence.json; the pack verifies', async () => {
    const dir = join(workdir, 'many');
    expect((await sseguard(['evidence', '--out', dir, '--bucket', 'scope-many'])).stderr).toBe('');
    const pack = packOf(dir);
    expect(pack.totals.exceptions).toBe(HTML_ROWS + 40);
    expect(pack.exceptions.objects).toHaveLength(HTML_ROWS + 40);
    expect(new Set(pack.exceptions.objects.map((o) => o.key)).size).toBe(HTML_ROWS + 40);
    expect(readFileSync(join(dir, 'exceptions.csv'), 'utf8').trim().split('\n')).toHaveLength(HTML_ROWS + 41);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain(`Objects not compliant (${HTML_ROWS + 40})`);
    expect(html).toContain('40 more rows in <code>exceptions.csv</code>');
    expect(await verifyPack(dir)).toEqual(['manifest.json: not signed (the pack was made without a signing key)']);
  });
});
