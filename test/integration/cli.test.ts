import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { DynamoFindingsStore } from '../../shared/findings/dynamodb-store.ts';
import { createBucket, createKey, disableKey, putObject } from '../support/aws-fixtures.ts';
import { runCli } from '../support/cli.ts';

/** Every test spawns the CLI (a node process that loads TypeScript through tsx), some several times. */
const CLI_TIMEOUT_MS = 120_000;
const workdir = mkdtempSync(join(tmpdir(), 'sseguard-cli-'));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const sseguard = (args: string[], env: Record<string, string | undefined> = {}) => runCli(args, { SSEGUARD_TABLE: 'cli-findings', ...env });

function policyFile(name: string, text: string): string {
  const path = join(workdir, name);
  writeFileSync(path, text);
  return path;
}

const clients = createAwsClients();

beforeAll(async () => {
  await createBucket(clients, 'all-good');
  await putObject(clients, 'all-good', 'a.txt', { mode: 'sse-s3' });
  await putObject(clients, 'all-good', 'dir/b c+d%e ü.txt', { mode: 'sse-s3' });
  // moto answers a key holding a line feed with a 500 HTML page (AWS accepts it): comma and quotes only.
  await putObject(clients, 'all-good', 'comma,"quoted".txt', { mode: 'sse-s3' });
  await createBucket(clients, 'has-sse-c');
  await putObject(clients, 'has-sse-c', 'fine.txt', { mode: 'sse-s3' });
  await putObject(clients, 'has-sse-c', 'customer.bin', { mode: 'sse-c' });
  expect((await sseguard(['init'])).code).toBe(0);
}, CLI_TIMEOUT_MS);

describe('sseguard init', { timeout: CLI_TIMEOUT_MS }, () => {
  test('creates the table once, then says it exists', async () => {
    const first = await sseguard(['init'], { SSEGUARD_TABLE: 'cli-init' });
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain('created table cli-init');
    const again = await sseguard(['init'], { SSEGUARD_TABLE: 'cli-init' });
    expect(again.stdout).toContain('table cli-init already exists');
  });
});

describe('sseguard scan', { timeout: CLI_TIMEOUT_MS }, () => {
  test('all compliant → exit 0; --json gives every object with the documented fields', async () => {
    const run = await sseguard(['scan', '--bucket', 'all-good', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const document = JSON.parse(run.stdout) as { findings: Record<string, unknown>[]; summary: { objects: number; exitCode: number } };
    expect(document.summary).toMatchObject({ objects: 3, exitCode: 0 });
    expect(document.findings.map((f) => f.key).sort()).toEqual(['a.txt', 'comma,"quoted".txt', 'dir/b c+d%e ü.txt']);
    for (const finding of document.findings) {
      expect(Object.keys(finding)).toEqual(expect.arrayContaining(['bucket', 'key', 'versionId', 'mode', 'kmsKeyArn', 'verdict', 'reasons']));
      expect(finding).toMatchObject({ bucket: 'all-good', mode: 'sse-s3', kmsKeyArn: null, verdict: 'compliant', reasons: [] });
    }
  });

  test('an SSE-C object → exit 1, and the summary table names it', async () => {
    const run = await sseguard(['scan', '--bucket', 'has-sse-c']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/noncompliant\s+1/);
    expect(run.stdout).toMatch(/noncompliant\s+customer\.bin\s+sse-c\s+sse-c-forbidden/);
  });

  test('a policy can exempt it → exit 0', async () => {
    const policy = policyFile(
      'exempt.yaml',
      'version: 1\nexemptions:\n  - { bucket: has-sse-c, prefix: customer, reason: vendor holds the key, owner: sec@example.com, expires: 2099-01-01 }\n',
    );
    const run = await sseguard(['scan', '--bucket', 'has-sse-c', '--policy', policy, '--no-record']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/exempt\s+1/);
    expect(run.stdout).toContain('Findings not recorded');
  });

  test('SSEGUARD_POLICY is used when --policy is not given', async () => {
    const policy = policyFile('kms-only.yaml', 'version: 1\ndefault: { require: sse-kms }\n');
    const run = await sseguard(['scan', '--bucket', 'all-good', '--no-record'], { SSEGUARD_POLICY: policy });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('mode-not-allowed');
  });

  test.each([
    [['scan', '--bucket', 'no-such-bucket'], {}, 'sseguard: error: bucket no-such-bucket does not exist'],
    [['scan', '--bucket', 'all-good', '--policy', '/nonexistent/policy.yaml'], {}, 'invalid policy /nonexistent/policy.yaml:\n  - file not found'],
    [['scan', '--bucket', 'all-good'], { AWS_REGION: '', AWS_DEFAULT_REGION: '' }, 'sseguard: error: AWS_REGION is not set'],
    [['scan', '--bucket', 'all-good'], { AWS_ENDPOINT_URL: 'not a url' }, 'AWS_ENDPOINT_URL is not an http(s) URL'],
    [['scan', '--bucket', 'Not_A_Bucket'], {}, "option '-b, --bucket <name>' argument 'Not_A_Bucket' is invalid"],
    [['scan', '--bucket', 'all-good', '--concurrency', '0'], {}, 'expected a whole number from 1 to 512'],
    [['report', '--format', 'xml'], {}, "argument 'xml' is invalid. Allowed choices are table, json, csv"],
    [['frobnicate'], {}, "unknown command 'frobnicate'"],
  ])('%j → exit 2 with a clear error', async (args, env, message) => {
    const run = await sseguard(args, env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  test('a malformed policy → exit 2 naming each bad field', async () => {
    const policy = policyFile('bad.yaml', 'version: 1\nrules:\n  - bucket: all-good\n    require: sse-kmz\n    kmsKeys: [nope]\n');
    const run = await sseguard(['scan', '--bucket', 'all-good', '--policy', policy]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('rules[0].require');
    expect(run.stderr).toContain('rules[0].kmsKeys[0]: expected a KMS key ARN');
  });

  test('a policy naming an alias KMS does not have → exit 2 naming the alias', async () => {
    const policy = policyFile('alias.yaml', 'version: 1\ndefault: { require: sse-kms, kmsKeys: [alias/nobody-made-this] }\n');
    const run = await sseguard(['scan', '--bucket', 'all-good', '--policy', policy]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('alias/nobody-made-this cannot be resolved');
  });

  test('a policy alias that exists is resolved to the ARN the objects report', async () => {
    const key = await createKey(clients, { alias: 'alias/cli-data' });
    await createBucket(clients, 'kms-bucket');
    await putObject(clients, 'kms-bucket', 'x', { mode: 'sse-kms', key });
    const policy = policyFile('cli-data.yaml', 'version: 1\ndefault: { require: sse-kms, kmsKeys: [alias/cli-data] }\n');
    const run = await sseguard(['scan', '--bucket', 'kms-bucket', '--policy', policy, '--json', '--no-record']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).findings[0]).toMatchObject({ kmsKeyArn: key.arn, verdict: 'compliant' });
  });

  test('a prefix with no object (a typo) fails the gate: exit 1 naming the empty scope, unless --allow-empty', async () => {
    const typo = await sseguard(['scan', '--bucket', 'all-good', '--prefix', 'finanse/', '--json']);
    expect(typo.code).toBe(1);
    expect(typo.stderr.trim()).toMatch(/^sseguard: error: no objects under s3:\/\/all-good\/finanse\//);
    expect(JSON.parse(typo.stdout).summary).toMatchObject({ objects: 0, empty: true, exitCode: 1 });
    const allowed = await sseguard(['scan', '--bucket', 'all-good', '--prefix', 'finanse/', '--allow-empty']);
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).not.toContain('no objects under');
    // A scope with objects is no empty run.
    const real = await sseguard(['scan', '--bucket', 'all-good', '--prefix', 'dir/', '--json']);
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout).summary.empty).toBeUndefined();
  });

  test('--help explains the command, its options and exit codes', async () => {
    const run = await sseguard(['scan', '--help']);
    expect(run.code).toBe(0);
    for (const text of ['--bucket', '--prefix', '--policy', '--concurrency', '--json', '--no-record', '--dry-run', '--remediate', 'Examples:']) {
      expect(run.stdout).toContain(text);
    }
    expect((await sseguard(['--help'])).stdout).toContain('Exit codes (every command): 0 done and compliant, 1 findings or failures to act on');
  });
});

describe('sseguard scan: remediation', { timeout: CLI_TIMEOUT_MS }, () => {
  let policy: string;
  let keyArn: string;
  // Its own findings table, so that the report tests below count only their buckets.
  const fixing = (args: string[]) => sseguard(args, { SSEGUARD_TABLE: 'cli-fix-findings' });

  beforeAll(async () => {
    expect((await fixing(['init'])).code).toBe(0);
    const key = await createKey(clients, { rotation: true });
    keyArn = key.arn;
    await createBucket(clients, 'to-fix');
    await putObject(clients, 'to-fix', 'data/one.csv', { mode: 'sse-s3' }, 'one');
    await putObject(clients, 'to-fix', 'data/two.csv', { mode: 'sse-s3' }, 'two!');
    policy = policyFile('fix.yaml', `version: 1\ndefault: { require: sse-kms, kmsKeys: [${key.arn}], remediate: true }\n`);
  }, CLI_TIMEOUT_MS);

  test('without --remediate nothing changes: the objects to fix are counted', async () => {
    const run = await fixing(['scan', '--bucket', 'to-fix', '--policy', policy, '--no-record']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('2 objects are set to be fixed by the policy: see the plan with --dry-run, fix them with --remediate.');
  });

  test('--dry-run prints each fix and the totals, and changes nothing', async () => {
    const run = await fixing(['scan', '--bucket', 'to-fix', '--policy', policy, '--dry-run']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Remediation plan (dry run: nothing was changed):');
    expect(run.stdout).toMatch(/s3:\/\/to-fix\/data\/one\.csv: UpdateObjectEncryption sse-s3 → sse-kms arn:aws:kms:\S+ \(no data moved\)/);
    expect(run.stdout).toMatch(/update-encryption\s+2/);
    expect(run.stdout).toContain('2 objects; 0 B would be copied');
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    expect((await clients.s3.send(new HeadObjectCommand({ Bucket: 'to-fix', Key: 'data/one.csv' }))).ServerSideEncryption).toBe('AES256');
  });

  test('--remediate fixes them; the exit code reflects the state after the fix', async () => {
    const run = await fixing(['scan', '--bucket', 'to-fix', '--policy', policy, '--remediate', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const document = JSON.parse(run.stdout);
    expect(document.summary.remediation).toMatchObject({ mode: 'fix', outcomes: { fixed: 2 } });
    for (const finding of document.findings) {
      expect(finding).toMatchObject({ verdict: 'compliant', mode: 'sse-kms', kmsKeyArn: keyArn, remediation: { action: 'update-encryption', outcome: 'fixed' } });
    }
    const again = await fixing(['scan', '--bucket', 'to-fix', '--policy', policy, '--remediate']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to fix.');
  });

  test('--dry-run and --remediate together are refused', async () => {
    const run = await fixing(['scan', '--bucket', 'to-fix', '--dry-run', '--remediate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("option '--dry-run' cannot be used with option '--remediate'");
  });
});

describe('sseguard invoke', { timeout: CLI_TIMEOUT_MS }, () => {
  const invoking = (args: string[]) => sseguard(args, { SSEGUARD_TABLE: 'cli-invoke-findings' });
  const sample = (name: string) => fileURLToPath(new URL(`../events/${name}`, import.meta.url));

  beforeAll(async () => {
    expect((await invoking(['init'])).code).toBe(0);
    await createBucket(clients, 'sseguard-demo');
    await putObject(clients, 'sseguard-demo', 'finance/payroll 2026.csv', { mode: 'sse-c' });
  }, CLI_TIMEOUT_MS);

  test('audit-worker with a bare S3 notification: wrapped as an SQS message, audited, recorded', async () => {
    const run = await invoking(['invoke', 'audit-worker', '--event', sample('s3-notification.json'), '--json']);
    expect(run.stderr).toContain('sending it as the body of one SQS message');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ batchItemFailures: [] });
    const report = JSON.parse((await invoking(['report', '--format', 'json'])).stdout);
    expect(report.findings).toMatchObject([{ bucket: 'sseguard-demo', key: 'finance/payroll 2026.csv', mode: 'sse-c', verdict: 'noncompliant' }]);
  });

  test('key-events with the recorded CloudTrail event: a key KMS does not know re-evaluates nothing, and says so', async () => {
    const run = await invoking(['invoke', 'key-events', '--event', sample('kms-disable-key.json'), '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'reevaluated', objects: 0, key: { status: 'not-found' } });
  });

  test('key-events without SSEGUARD_ACCOUNT_ID: the caller\'s account stands in, as the stacks set it, so its own objects are re-evaluated in place, not queued', async () => {
    const key = await createKey(clients);
    await createBucket(clients, 'invoke-own-account');
    await putObject(clients, 'invoke-own-account', 'a.txt', { mode: 'sse-kms', key });
    expect((await invoking(['scan', '--bucket', 'invoke-own-account'])).code).toBe(0);
    await disableKey(clients, key);
    const event = JSON.parse(readFileSync(sample('kms-disable-key.json'), 'utf8'));
    event.detail.requestParameters.keyId = key.arn;
    event.detail.resources[0].ARN = key.arn;
    const file = join(mkdtempSync(join(tmpdir(), 'sseguard-invoke-')), 'disable.json');
    writeFileSync(file, JSON.stringify(event));
    const run = await sseguard(['invoke', 'key-events', '--event', file, '--json'], { SSEGUARD_TABLE: 'cli-invoke-findings', SSEGUARD_ACCOUNT_ID: '' });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("SSEGUARD_ACCOUNT_ID is not set: 123456789012, the caller's account (STS)");
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'reevaluated', objects: 1, verdicts: { 'at-risk': 1 }, queued: { messages: 0, objects: 0 } });
  });

  test.each([
    [['invoke', 'nope', '--event', 'x.json'], "value 'nope' is invalid for argument 'function'. Allowed choices are audit-worker, sweep, key-events, report-api, outbox-delivery"],
    [['invoke', 'sweep', '--event', '/nonexistent.json'], 'cannot read event file /nonexistent.json: ENOENT'],
    [['invoke', 'sweep'], "required option '-e, --event <file>' not specified"],
  ])('%j → exit 2: %s', async (args, message) => {
    const run = await invoking(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});

describe('sseguard report', { timeout: CLI_TIMEOUT_MS }, () => {
  beforeAll(async () => {
    await sseguard(['scan', '--bucket', 'all-good']);
    await sseguard(['scan', '--bucket', 'has-sse-c']);
  }, CLI_TIMEOUT_MS);

  test('CSV: a header and one RFC 4180 row per finding, odd keys quoted', async () => {
    const run = await sseguard(['report', '--format', 'csv']);
    expect(run.code).toBe(0);
    const [header, ...rest] = run.stdout.trimEnd().split('\n');
    expect(header).toBe('bucket,key,versionId,mode,kmsKeyArn,verdict,reasons,size,storageClass,etag,auditedAt,policyVersion,policyHash,account,region');
    expect(run.stdout).toContain('all-good,"comma,""quoted"".txt",,sse-s3,,compliant,,');
    expect(run.stdout).toContain('has-sse-c,customer.bin,,sse-c,,noncompliant,sse-c-forbidden,');
    expect(rest.length).toBe(5);
  });

  test('JSON: summary from the counters and every finding; filters narrow it', async () => {
    const all = JSON.parse((await sseguard(['report', '--format', 'json'])).stdout);
    expect(all.summary.overall).toMatchObject({ objects: 5, verdicts: { compliant: 4, noncompliant: 1 } });
    expect(all.findings).toHaveLength(5);
    const filtered = JSON.parse((await sseguard(['report', '--format', 'json', '--verdict', 'noncompliant'])).stdout);
    expect(filtered.findings.map((f: { key: string }) => f.key)).toEqual(['customer.bin']);
    const oneBucket = JSON.parse((await sseguard(['report', '--format', 'json', '--bucket', 'all-good'])).stdout);
    expect(oneBucket.findings).toHaveLength(3);
  });

  test('table: compliance per bucket at a glance', async () => {
    const run = await sseguard(['report']);
    expect(run.stdout).toContain('5 objects');
    expect(run.stdout).toContain('80.0% compliant or exempt');
    expect(run.stdout).toMatch(/has-sse-c\s+2\s+1\s+1/);
  });
});

describe('sseguard report: filters answer the question asked', { timeout: CLI_TIMEOUT_MS }, () => {
  let key: Awaited<ReturnType<typeof createKey>>;
  beforeAll(async () => {
    key = await createKey(clients, { alias: 'alias/report-finance' });
    await createBucket(clients, 'report-kms');
    await putObject(clients, 'report-kms', 'ledger-1', { mode: 'sse-kms', key });
    await putObject(clients, 'report-kms', 'ledger-2', { mode: 'sse-kms', key });
    await putObject(clients, 'report-kms', 'readme', { mode: 'sse-s3' });
    expect((await sseguard(['scan', '--bucket', 'report-kms'])).code).toBe(0);
    expect((await sseguard(['scan', '--bucket', 'has-sse-c'])).code).toBe(1);
  }, CLI_TIMEOUT_MS);

  test('--kms-key takes an alias, an alias ARN or a key id as the policy does, and finds the objects under the key ARN', async () => {
    const aliasArn = key.arn.replace(/:key\/.*$/, ':alias/report-finance');
    for (const ref of ['alias/report-finance', aliasArn, key.id, key.arn]) {
      const run = await sseguard(['report', '--format', 'json', '--kms-key', ref]);
      expect(run.code, `${ref}: ${run.stderr}`).toBe(0);
      const document = JSON.parse(run.stdout);
      expect(document.findings.map((f: { key: string }) => f.key).sort(), ref).toEqual(['ledger-1', 'ledger-2']);
      expect(document.summary.overall.objects, ref).toBe(2);
      expect(Object.keys(document.summary.kmsKeys), ref).toEqual([key.arn]);
    }
  });

  test('a key KMS cannot resolve is an error naming it; a key with no findings says so (exit 1)', async () => {
    const missing = await sseguard(['report', '--kms-key', 'alias/no-such-key']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('alias/no-such-key');
    const unused = await createKey(clients, { alias: 'alias/report-unused' });
    const none = await sseguard(['report', '--kms-key', 'alias/report-unused']);
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toBe(`sseguard: error: no findings recorded under KMS key ${unused.arn} (alias/report-unused)`);
    expect(none.stdout).toBe('');
  });

  test('the summary is the filtered one, in JSON and in the table', async () => {
    const oneBucket = JSON.parse((await sseguard(['report', '--format', 'json', '--bucket', 'has-sse-c'])).stdout);
    expect(oneBucket.summary.overall).toMatchObject({ objects: 2, verdicts: { compliant: 1, noncompliant: 1 } });
    expect(Object.keys(oneBucket.summary.buckets)).toEqual(['has-sse-c']);
    const table = await sseguard(['report', '--bucket', 'has-sse-c']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^2 objects, .*; 50\.0% compliant or exempt \(bucket has-sse-c\)$/);
    expect(table.stdout).not.toContain('all-good');
  });

  test('an unknown bucket says so in one line, exit 1, instead of the fleet summary', async () => {
    for (const format of ['table', 'json', 'csv']) {
      const run = await sseguard(['report', '--format', format, '--bucket', 'nope']);
      expect(run.code, format).toBe(1);
      expect(run.stderr, format).toBe('sseguard: error: no findings recorded for bucket nope\n');
      expect(run.stdout, format).toBe('');
    }
  });
});

describe('sseguard scan: every finding names the policy that judged it', { timeout: CLI_TIMEOUT_MS }, () => {
  const store = new DynamoFindingsStore(clients.documents, 'cli-findings');
  const bucket = 'policy-change';
  const snapshot = async () =>
    Promise.all(['a.txt', 'b.txt'].map(async (key) => ({ state: (await store.statesOf(bucket, [key])).get(key)!, history: (await store.history(bucket, key)).length })));

  beforeAll(async () => {
    await createBucket(clients, bucket);
    await putObject(clients, bucket, 'a.txt', { mode: 'sse-s3' });
    await putObject(clients, bucket, 'b.txt', { mode: 'sse-s3' });
  }, CLI_TIMEOUT_MS);

  test('a re-audit under the same policy writes nothing; another policy with the same verdicts rewrites the policy only, and the scan warns first', async () => {
    const first = await sseguard(['scan', '--bucket', bucket, '--json']);
    expect(first.code).toBe(0);
    const firstPolicy = JSON.parse(first.stdout).scan.policy;
    expect(firstPolicy).toEqual({ version: 1, hash: expect.stringMatching(/^sha256:[0-9a-f]{16}$/) });
    expect(JSON.parse(first.stdout).findings.map((f: { policy: unknown }) => f.policy)).toEqual([firstPolicy, firstPolicy]);
    const recorded = await snapshot();
    expect(recorded.map((r) => r.state.policy)).toEqual([firstPolicy, firstPolicy]);

    // The same policy again: nothing to overwrite, nothing written.
    const again = await sseguard(['scan', '--bucket', bucket, '--json']);
    expect(again.stderr).not.toContain('warning');
    expect(JSON.parse(again.stdout).scan.overwrites).toBeUndefined();
    expect(await snapshot()).toEqual(recorded);

    // Another policy, under which the objects are still compliant.
    const strict = policyFile('sse-s3-only.yaml', 'version: 1\ndefault: { require: sse-s3 }\n');
    const changed = await sseguard(['scan', '--bucket', bucket, '--policy', strict, '--json']);
    expect(changed.code).toBe(0);
    const header = JSON.parse(changed.stdout).scan;
    expect(header.policy.hash).not.toBe(firstPolicy.hash);
    expect(header.overwrites).toEqual({ underOtherPolicies: 2, withoutPolicy: 0 });
    expect(changed.stderr).toContain(`sseguard: warning: 2 findings under s3://${bucket}/ were judged under another policy`);
    expect(changed.stderr).toContain(header.policy.hash);
    const rejudged = await snapshot();
    // Same verdicts: the state names the new policy (one write each), no history entry, no count moved.
    expect(rejudged.map((r) => [r.state.verdict, r.state.policy, r.state.rev, r.history])).toEqual(
      recorded.map((r) => ['compliant', header.policy, r.state.rev + 1, r.history]),
    );

    // report shows it: JSON, CSV and the table.
    const json = JSON.parse((await sseguard(['report', '--format', 'json', '--bucket', bucket])).stdout);
    expect(json.findings.map((f: { policy: unknown }) => f.policy)).toEqual([header.policy, header.policy]);
    const csv = (await sseguard(['report', '--format', 'csv', '--bucket', bucket])).stdout.trimEnd().split('\n');
    expect(csv[0]!.endsWith(',policyVersion,policyHash,account,region')).toBe(true);
    // A scan of one bucket stamps the caller's account (STS) and the bucket's Region, as account scans do.
    expect(csv[1]).toMatch(new RegExp(`,1,${header.policy.hash},\\d{12},[a-z]{2}-[a-z]+-\\d$`));
    expect((await sseguard(['report', '--bucket', bucket])).stdout).toContain(header.policy.hash);
  });
});
