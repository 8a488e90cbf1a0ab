// `sseguard evidence` end to end on the emulator: buckets in every state, a fix, an exemption, a
// disabled key, a removal; the pack's population equals `report`, --as-of before the fix shows the
// pre-fix state, the history chains hold across scans, fixes and removals, openssl verifies the KMS
// signature, and `evidence verify` names the file, the signature or the history entry tampered with.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CopyObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { DeleteCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { DynamoFindingsStore } from '../../shared/findings/dynamodb-store.ts';
import { createBucket, createKey, disableKey, putObject, type TestKey } from '../support/aws-fixtures.ts';
import { runCli } from '../support/cli.ts';

const CLI_TIMEOUT_MS = 240_000;
const TABLE = 'evidence-findings';
const MAIN = 'evidence-main';
const FIX = 'evidence-fix';
const NEVER = 'evidence-never';
const workdir = mkdtempSync(join(tmpdir(), 'sseguard-evidence-'));
const clients = createAwsClients();
const sseguard = (args: string[]) => runCli(args, { SSEGUARD_TABLE: TABLE });
const openssl = promisify(execFile);

let policy: string;
let signingKey: string;
let target: TestKey;
let beforeFix: string;
let pack: string;

interface Pack {
  asOf: string;
  gaps: string[];
  population: { objects: number; bytes: number; byVerdict: Record<string, { objects: number; bytes: number }>; byMode: Record<string, { objects: number }> };
  coverage: { bucket: string; status: string }[];
  exceptions: { objects: { bucket: string; key: string; verdict: string }[]; exemptions: { prefix: string; expired: boolean; coveredObjects: number; owner: string }[] };
  keys: { arn: string; state?: string; objects: number }[];
  changes: { fixes: { bucket: string; key: string; outcome: string; before: { mode?: string }; after?: { mode?: string } }[]; verdictChanges: { key: string; to: string }[] };
  chains: { problems: string[]; chainedEntries: number };
}
const readPack = (dir: string): Pack => JSON.parse(readFileSync(join(dir, 'evidence.json'), 'utf8')) as Pack;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function makePack(name: string, extra: string[] = []): Promise<{ dir: string; code: number; stdout: string; stderr: string }> {
  const dir = join(workdir, name);
  const run = await sseguard(['evidence', '--out', dir, '--policy', policy, '--signing-key', signingKey, ...extra]);
  return { dir, ...run };
}

beforeAll(async () => {
  const disabled = await createKey(clients);
  target = await createKey(clients, { rotation: true });
  const { KeyMetadata } = await clients.kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'evidence signing' }));
  signingKey = KeyMetadata!.KeyId!;
  policy = join(workdir, 'policy.yaml');
  writeFileSync(
    policy,
    [
      'version: 1',
      'default: { require: any }',
      'rules:',
      `  - bucket: ${FIX}`,
      '    require: sse-kms',
      '    remediate: true',
      `    target: { mode: sse-kms, kmsKey: ${target.arn} }`,
      'exemptions:',
      `  - { bucket: ${MAIN}, prefix: legacy/, reason: migrated next quarter, owner: data@example.com, expires: 2099-12-31 }`,
      `  - { bucket: ${MAIN}, prefix: tmp/, reason: scratch, owner: ops@example.com, expires: 2024-06-30 }`,
      '',
    ].join('\n'),
  );
  for (const bucket of [MAIN, FIX, NEVER]) await createBucket(clients, bucket);
  await putObject(clients, MAIN, 'plain.txt', { mode: 'sse-s3' });
  await putObject(clients, MAIN, 'kms.txt', { mode: 'sse-kms', key: target });
  await putObject(clients, MAIN, 'customer.bin', { mode: 'sse-c' });
  await putObject(clients, MAIN, 'legacy/old.bin', { mode: 'sse-c' });
  await putObject(clients, MAIN, 'at-risk.txt', { mode: 'sse-kms', key: disabled });
  await putObject(clients, MAIN, 'gone.txt', { mode: 'sse-s3' });
  await putObject(clients, FIX, 'to-fix.txt', { mode: 'sse-s3' });
  expect((await sseguard(['init'])).code).toBe(0);
  for (const bucket of [MAIN, FIX]) expect((await sseguard(['scan', '--bucket', bucket, '--policy', policy])).code).toBe(1);
  // The key is disabled and the object removed after a first record: a verdict change and a removal.
  await disableKey(clients, disabled);
  expect((await sseguard(['scan', '--bucket', MAIN, '--policy', policy])).code).toBe(1);
  // A removal is recorded from S3's event (a listing cannot see what is gone): the store's own path.
  await clients.s3.send(new DeleteObjectCommand({ Bucket: MAIN, Key: 'gone.txt' }));
  await new DynamoFindingsStore(clients.documents, TABLE).record([
    { bucket: MAIN, key: 'gone.txt', size: 0, verdict: 'compliant', reasons: [], remediate: false, removed: true, auditedAt: new Date().toISOString() },
  ]);
  await sleep(1100);
  beforeFix = new Date().toISOString();
  await sleep(1100);
  const fixed = await sseguard(['scan', '--bucket', FIX, '--policy', policy, '--remediate']);
  expect(fixed.code, fixed.stderr).toBe(0);
  const made = await makePack('pack');
  expect(made.stderr).toBe('');
  pack = made.dir;
}, CLI_TIMEOUT_MS);

describe('sseguard evidence', { timeout: CLI_TIMEOUT_MS }, () => {
  test("the pack's population equals `report`; coverage puts the never-audited bucket first; exceptions, exemptions, keys and the fix are there", async () => {
    const evidence = readPack(pack);
    const report = JSON.parse((await sseguard(['report', '--format', 'json'])).stdout) as {
      summary: { overall: { objects: number; bytes: number; verdicts: Record<string, number>; modes: Record<string, number> } };
    };
    const { overall } = report.summary;
    expect(evidence.population.objects).toBe(overall.objects);
    expect(evidence.population.bytes).toBe(overall.bytes);
    for (const [verdict, tally] of Object.entries(evidence.population.byVerdict)) expect(tally.objects).toBe(overall.verdicts[verdict] ?? 0);
    for (const [mode, tally] of Object.entries(evidence.population.byMode)) expect(tally.objects).toBe(overall.modes[mode] ?? 0);
    expect(evidence.population.objects).toBe(6);

    expect(evidence.coverage[0]).toMatchObject({ bucket: NEVER, status: 'never' });
    expect(evidence.gaps[0]).toContain(`never audited: ${NEVER}`);
    const exceptions = Object.fromEntries(evidence.exceptions.objects.map((o) => [`${o.bucket}/${o.key}`, o.verdict]));
    expect(exceptions).toEqual({ [`${MAIN}/customer.bin`]: 'noncompliant', [`${MAIN}/at-risk.txt`]: 'at-risk' });
    expect(evidence.exceptions.exemptions).toEqual([
      expect.objectContaining({ prefix: 'legacy/', owner: 'data@example.com', expired: false, coveredObjects: 1 }),
      expect.objectContaining({ prefix: 'tmp/', expired: true, coveredObjects: 0 }),
    ]);
    expect(evidence.keys.find((k) => k.arn === target.arn)).toMatchObject({ state: 'Enabled', objects: 2 });
    expect(evidence.keys.find((k) => k.state === 'Disabled')).toMatchObject({ objects: 1 });
    expect(evidence.changes.fixes).toEqual([expect.objectContaining({ bucket: FIX, key: 'to-fix.txt', outcome: 'fixed', before: expect.objectContaining({ mode: 'sse-s3' }), after: expect.objectContaining({ mode: 'sse-kms' }) })]);
    expect(evidence.changes.verdictChanges).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'gone.txt', to: 'removed' }), expect.objectContaining({ key: 'at-risk.txt', to: 'at-risk' })]));
    expect(evidence.chains.problems).toEqual([]);
    expect(evidence.chains.chainedEntries).toBeGreaterThan(8);
    // The fixer's own entry is a link of the chain: first audit → fix → the audit after it.
    const fixHistory = readFileSync(join(pack, 'history.jsonl'), 'utf8').split('\n').filter((line) => line.includes(`"object":"${FIX}/to-fix.txt"`)).map((line) => JSON.parse(line) as { sk: string; hash: string; prevHash?: string });
    expect(fixHistory.map((e) => e.sk.endsWith('#FIX'))).toEqual([false, true, false]);
    expect(fixHistory[1]!.prevHash).toBe(fixHistory[0]!.hash);
    expect(fixHistory[2]!.prevHash).toBe(fixHistory[1]!.hash);
  });

  test('--as-of before the fix shows the pre-fix state (and not the object removed before it)', async () => {
    const made = await makePack('as-of', ['--as-of', beforeFix]);
    const evidence = readPack(made.dir);
    const fixObject = evidence.exceptions.objects.find((o) => o.bucket === FIX);
    expect(fixObject).toMatchObject({ key: 'to-fix.txt', verdict: 'noncompliant' });
    expect(evidence.population.objects).toBe(6);
    expect(evidence.changes.fixes).toEqual([]);
    // gone.txt was removed before the as-of time: not in the population.
    expect(evidence.population.byMode['sse-s3']!.objects).toBe(2);
  });

  test('verify passes; openssl verifies the KMS signature with the included public key', async () => {
    const verified = await sseguard(['evidence', 'verify', pack, '--kms']);
    expect(verified.stdout).toContain('every file matches the manifest, the signature verifies, the history chains hold');
    expect(verified.code).toBe(0);
    const { stdout } = await openssl('openssl', ['dgst', '-sha256', '-verify', 'public-key.pem', '-signature', 'manifest.sig', 'manifest.json'], { cwd: pack });
    expect(stdout.trim()).toBe('Verified OK');
  });

  test.each(['population.csv', 'report.html', 'history.jsonl', 'public-key.pem'])('one byte of %s changed: verify fails naming it', async (file) => {
    const copy = join(workdir, `tampered-${file}`);
    cpSync(pack, copy, { recursive: true });
    const data = readFileSync(join(copy, file));
    const middle = Math.floor(data.length / 2);
    data[middle] = data[middle]! ^ 0x01;
    writeFileSync(join(copy, file), data);
    const verified = await sseguard(['evidence', 'verify', copy]);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain(`${file}: SHA-256 does not match the manifest (the file was changed)`);
    const asJson = await sseguard(['evidence', 'verify', copy, '--json']);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ pack: copy, verified: false, problems: expect.arrayContaining([`${file}: SHA-256 does not match the manifest (the file was changed)`]) });
  });

  test('a swapped signature (a valid one, of another manifest) fails, offline and with KMS', async () => {
    const other = await makePack('other');
    const copy = join(workdir, 'swapped');
    cpSync(pack, copy, { recursive: true });
    cpSync(join(other.dir, 'manifest.sig'), join(copy, 'manifest.sig'));
    const verified = await sseguard(['evidence', 'verify', copy, '--kms']);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain('manifest.sig: the signature does not verify manifest.json with public-key.pem');
    expect(verified.stdout).toContain('manifest.sig: KMS Verify');
    await expect(openssl('openssl', ['dgst', '-sha256', '-verify', 'public-key.pem', '-signature', 'manifest.sig', 'manifest.json'], { cwd: copy })).rejects.toThrow();
  });

  test('--sample re-checks objects live and finds one changed behind sseguard\'s back; the seed is printed', async () => {
    await clients.s3.send(new CopyObjectCommand({ Bucket: MAIN, Key: 'plain.txt', CopySource: `${MAIN}/plain.txt`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: target.arn, MetadataDirective: 'REPLACE' }));
    const made = await makePack('sample', ['--sample', '100']);
    expect(made.code).toBe(1);
    expect(made.stdout).toMatch(/sample: 6 drawn with seed \d+: 5 match, 1 mismatch, 0 could not be checked/);
    expect(made.stdout).toContain(`MISMATCH: ${MAIN}/plain.txt: mode: recorded sse-s3, live sse-kms`);
    const seed = /seed (\d+)/.exec(made.stdout)![1]!;
    const again = await makePack('sample-again', ['--sample', '3', '--seed', seed]);
    const first = await makePack('sample-again-2', ['--sample', '3', '--seed', seed]);
    const drawn = (dir: string) => readFileSync(join(dir, 'sample.csv'), 'utf8').split('\n').slice(1).map((line) => line.split(',').slice(0, 2).join('/'));
    expect(drawn(again.dir)).toEqual(drawn(first.dir));
  });

  test('a history entry edited, then one removed, in the table: the next pack says so and verify fails naming the entry', async () => {
    const entries = async (key: string) =>
      (await clients.documents.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :h)', ExpressionAttributeValues: { ':pk': `OBJ#${MAIN}/${key}`, ':h': 'HIST#' } }))).Items!;
    const [edited] = await entries('customer.bin');
    await clients.documents.send(new UpdateCommand({ TableName: TABLE, Key: { pk: edited!.pk, sk: edited!.sk }, UpdateExpression: 'SET verdict = :v', ExpressionAttributeValues: { ':v': 'compliant' } }));
    const afterEdit = await makePack('edited');
    expect(afterEdit.code).toBe(1);
    const editProblem = `${MAIN}/customer.bin: history entry ${edited!.sk as string} does not match its hash (edited)`;
    expect(readPack(afterEdit.dir).chains.problems).toEqual([editProblem]);
    const verifyEdit = await sseguard(['evidence', 'verify', afterEdit.dir]);
    expect(verifyEdit.code).toBe(1);
    expect(verifyEdit.stdout.trim()).toBe(`history.jsonl: ${editProblem}`);

    const atRisk = await entries('at-risk.txt');
    expect(atRisk.length).toBe(2);
    await clients.documents.send(new DeleteCommand({ TableName: TABLE, Key: { pk: atRisk[0]!.pk, sk: atRisk[0]!.sk } }));
    const afterRemoval = await makePack('removed');
    const verifyRemoval = await sseguard(['evidence', 'verify', afterRemoval.dir]);
    expect(verifyRemoval.code).toBe(1);
    expect(verifyRemoval.stdout).toContain(`history.jsonl: ${MAIN}/at-risk.txt: history entry ${atRisk[1]!.sk as string} links to an entry that is missing (removed)`);
  });
});
