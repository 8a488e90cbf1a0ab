// The command line's shared vocabulary and its errors, as a user meets them: one error prefix,
// "did you mean", --version, case-insensitive values, --json, exit codes 0/1/2, and errors that
// name the real cause (a dead endpoint, a missing table, a busy port, a missing destination).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutBucketInventoryConfigurationCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../cli/emulator-process.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { AccountLookupError, callerAccountId, withAccountId } from '../../shared/accounts/caller-account.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { loadConfig } from '../../shared/config.ts';
import { createBucket, putObject } from '../support/aws-fixtures.ts';
import { runCli } from '../support/cli.ts';

const CLI_TIMEOUT_MS = 120_000;
const TABLE = 'vocabulary-findings';
const workdir = mkdtempSync(join(tmpdir(), 'sseguard-vocabulary-'));
const sseguard = (args: string[], env: Record<string, string | undefined> = {}) => runCli(args, { SSEGUARD_TABLE: TABLE, ...env });
const clients = createAwsClients();
/** A port nothing listens on: connection refused at once. */
const DEAD = 'http://127.0.0.1:1';

function file(name: string, text: string): string {
  const path = join(workdir, name);
  writeFileSync(path, text);
  return path;
}

beforeAll(async () => {
  await createBucket(clients, 'vocab-data');
  await putObject(clients, 'vocab-data', 'a.txt', { mode: 'sse-s3' });
  await createBucket(clients, 'vocab-reports');
  expect((await sseguard(['init'])).code).toBe(0);
}, CLI_TIMEOUT_MS);

describe('one vocabulary', { timeout: CLI_TIMEOUT_MS }, () => {
  test('--version prints the version, exit 0', async () => {
    const run = await sseguard(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });

  test('a mistyped command or option gets "did you mean", the common error prefix and exit 2', async () => {
    const command = await sseguard(['reprot']);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/^sseguard: error: unknown command 'reprot'\n\(Did you mean report\?\)/);
    const option = await sseguard(['report', '--fromat', 'json']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/^sseguard: error: unknown option '--fromat'\n\(Did you mean --format\?\)/);
  });

  test('--help gives the exit codes, the same for every command', async () => {
    const run = await sseguard(['--help']);
    expect(run.stdout).toContain('Exit codes (every command): 0 done and compliant, 1 findings or failures to act on');
    for (const command of [['plan'], ['inventory', 'setup'], ['report']]) {
      expect((await sseguard([...command, '--help'])).stdout).toContain('Exit codes (every command)');
    }
  });

  test('format values are matched without regard to case; report --json is report --format json', async () => {
    const upper = await sseguard(['report', '--format', 'JSON']);
    expect(upper.code).toBe(0);
    const json = await sseguard(['report', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(upper.stdout));
    const both = await sseguard(['report', '--json', '--format', 'csv']);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('sseguard: error: --json and --format csv ask for two formats: give one\n');
  });

  test('init --json and rollback --json print JSON; errors stay one prefixed line', async () => {
    const init = await sseguard(['init', '--json']);
    expect(init.code).toBe(0);
    expect(JSON.parse(init.stdout).tables).toMatchObject([{ name: TABLE, outcome: 'exists' }, { outcome: 'exists' }]);
    const rollback = await sseguard(['rollback', '--bucket', 'vocab-data', '--json']);
    expect(rollback).toMatchObject({ code: 2, stdout: '', stderr: 'sseguard: error: no recorded changes for bucket vocab-data\n' });
  });

  test('inventory setup: the destination prefix is --destination-prefix, the id --inventory-id, values any case; old spellings warn', async () => {
    const run = await sseguard([
      'inventory', 'setup', '--bucket', 'vocab-data', '--destination-bucket', 'vocab-reports',
      '--destination-prefix', 'reports', '--inventory-id', 'audit', '--format', 'parquet', '--versions', 'ALL', '--dry-run', '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { configuration } = JSON.parse(run.stdout);
    expect(configuration).toMatchObject({ Id: 'audit', IncludedObjectVersions: 'All', Destination: { S3BucketDestination: { Format: 'Parquet', Prefix: 'reports' } } });

    const old = await sseguard(['inventory', 'setup', '--bucket', 'vocab-data', '--destination-bucket', 'vocab-reports', '-p', 'old', '--id', 'legacy', '--dry-run', '--json']);
    expect(old.code).toBe(0);
    expect(JSON.parse(old.stdout).configuration).toMatchObject({ Id: 'legacy', Destination: { S3BucketDestination: { Prefix: 'old' } } });
    expect(old.stderr).toContain('sseguard: warning: --prefix is deprecated: use --destination-prefix');
    expect(old.stderr).toContain('sseguard: warning: --id is deprecated: use --inventory-id');
    const help = await sseguard(['inventory', 'setup', '--help']);
    expect(help.stdout).not.toMatch(/-p, --prefix|--id </);
  });

  test('posture --dry-run alone shows the changes --remediate would make, and makes none', async () => {
    const policy = file('tls.yaml', 'version: 1\ndefault:\n  requireTls: true\n');
    const run = await sseguard(['posture', '--bucket', 'vocab-data', '--policy', policy, '--dry-run', '--no-record']);
    expect(run.stdout).toContain('Changes planned, not made (dry run):');
    expect(run.stdout).toMatch(/bucket policy \(fixes tls-not-required\)/);
    expect(run.code).toBe(1);
    const after = await sseguard(['posture', '--bucket', 'vocab-data', '--policy', policy, '--json', '--no-record']);
    expect(JSON.parse(after.stdout).posture.tls).not.toBe('required');
  });
});

describe('a policy rule that judged nothing in the scan', { timeout: CLI_TIMEOUT_MS }, () => {
  test('is a warning on stderr; the verdicts and the exit code stand', async () => {
    const policy = file('typo.yaml', 'version: 1\nrules:\n  - bucket: vocab-data\n    prefix: finanse/\n    require: sse-s3\n');
    const run = await sseguard(['scan', '--bucket', 'vocab-data', '--policy', policy, '--no-record', '--json']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('sseguard: warning: rules[0] (bucket vocab-data, prefix finanse/) judged none of the 1 objects of this scan');
    expect(JSON.parse(run.stdout).summary.objects).toBe(1);
  });
});

describe('plan --policy', { timeout: CLI_TIMEOUT_MS }, () => {
  test('prices the fixes the policy would make, not every object not in the target mode', async () => {
    await createBucket(clients, 'vocab-plan');
    await createBucket(clients, 'vocab-plan-reports');
    await putObject(clients, 'vocab-plan', 'fin/a', { mode: 'sse-s3' });
    await putObject(clients, 'vocab-plan', 'fin/b', { mode: 'sse-s3' });
    await putObject(clients, 'vocab-plan', 'pub/c', { mode: 'sse-s3' });
    expect((await sseguard(['inventory', 'setup', '--bucket', 'vocab-plan', '--destination-bucket', 'vocab-plan-reports'])).code).toBe(0);
    expect((await sseguard(['emulator', 'deliver-inventory', '--bucket', 'vocab-plan'])).code).toBe(0);
    const policy = file(
      'fix-finance.yaml',
      'version: 1\ndefault:\n  require: any\nrules:\n  - bucket: vocab-plan\n    prefix: fin/\n    require: sse-kms\n    remediate: true\n    target: { mode: sse-kms, kmsKey: alias/finance }\n',
    );
    const fixes = (args: string[]) => sseguard(['plan', '--bucket', 'vocab-plan', '--inventory', 's3://vocab-plan-reports', '--json', ...args]);
    const byMethod = (stdout: string) =>
      Object.fromEntries((JSON.parse(stdout).fix.byMethod as { method: string; objects: number }[]).filter((m) => m.objects > 0).map((m) => [m.method, m.objects]));
    const every = await fixes([]);
    expect(byMethod(every.stdout)).toEqual({ update: 3 });
    const withPolicy = await fixes(['--policy', policy]);
    expect(withPolicy.stderr).toBe('');
    expect(byMethod(withPolicy.stdout)).toEqual({ update: 2 });
    expect(JSON.parse(withPolicy.stdout).objects).toBe(3);
  });
});

describe('errors name the real cause', { timeout: CLI_TIMEOUT_MS }, () => {
  test('a missing findings table: "table X does not exist in REGION: run `sseguard init`", exit 2', async () => {
    const run = await sseguard(['report'], { SSEGUARD_TABLE: 'never-created' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^sseguard: error: table never-created does not exist in us-east-1 on http:\/\/127\.0\.0\.1:\d+: run `sseguard init`/);
    expect(run.stderr).not.toContain('Requested resource not found');
  });

  test('KMS endpoint down while resolving the policy\'s aliases: a connection error, not "invalid policy"', async () => {
    const policy = file('alias.yaml', 'version: 1\ndefault:\n  require: sse-kms\n  kmsKeys: [alias/finance]\n');
    const run = await sseguard(['scan', '--bucket', 'vocab-data', '--policy', policy, '--no-record'], { AWS_ENDPOINT_URL_KMS: DEAD, SSEGUARD_MAX_ATTEMPTS: '1' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^sseguard: error: cannot connect to .*http:\/\/127\.0\.0\.1:1.* \(connection refused\)/);
    expect(run.stderr).not.toContain('invalid policy');
  });

  test('a key the policy names that does not exist is reported at its path (rules[0].kmsKeys[0])', async () => {
    const policy = file('missing-key.yaml', 'version: 1\nrules:\n  - bucket: "vocab-*"\n    require: sse-kms\n    kmsKeys: [alias/nobody-made-this]\n');
    const run = await sseguard(['scan', '--bucket', 'vocab-data', '--policy', policy, '--no-record']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('invalid policy');
    expect(run.stderr).toContain('  - rules[0].kmsKeys[0]: KMS key alias/nobody-made-this cannot be resolved');
  });

  test('inventory setup checks that the destination bucket exists, and says so', async () => {
    const missing = await sseguard(['inventory', 'setup', '--bucket', 'vocab-data', '--destination-bucket', 'vocab-nowhere']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^sseguard: error: the destination bucket vocab-nowhere does not exist/);
    const { InventoryConfigurationList = [] } = await clients.s3.send(
      new (await import('@aws-sdk/client-s3')).ListBucketInventoryConfigurationsCommand({ Bucket: 'vocab-data' }),
    );
    expect(InventoryConfigurationList).toEqual([]);
    const present = await sseguard(['inventory', 'setup', '--bucket', 'vocab-data', '--destination-bucket', 'vocab-reports']);
    expect(present.code).toBe(0);
    expect(present.stdout).toContain('Destination bucket vocab-reports exists.');
  });

  test('emulator deliver-inventory names the missing destination, not the source', async () => {
    await createBucket(clients, 'vocab-orphan');
    await clients.s3.send(
      new PutBucketInventoryConfigurationCommand({
        Bucket: 'vocab-orphan',
        Id: 'orphan',
        InventoryConfiguration: {
          Id: 'orphan',
          IsEnabled: true,
          IncludedObjectVersions: 'Current',
          Schedule: { Frequency: 'Daily' },
          Destination: { S3BucketDestination: { Bucket: 'arn:aws:s3:::vocab-gone', Format: 'CSV' } },
        },
      }),
    );
    const run = await sseguard(['emulator', 'deliver-inventory', '--bucket', 'vocab-orphan']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^sseguard: error: the destination bucket vocab-gone of inventory configuration 'orphan' on vocab-orphan does not exist/);
    const source = await sseguard(['emulator', 'deliver-inventory', '--bucket', 'vocab-absent']);
    expect(source.stderr).toBe('sseguard: error: the source bucket vocab-absent does not exist\n');
  });

  describe('a busy port: one line, exit 2', () => {
    let server: Server;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      server = createServer();
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    test.each([
      [['emulator', '--port'], /^sseguard: error: moto did not start: port \d+ on 127\.0\.0\.1 is already in use/],
      [['serve', '--no-auth', '--port'], /^sseguard: error: port \d+ on 127\.0\.0\.1 is already in use: stop what runs there or choose another --port\n$/],
    ])('%j', async (args, message) => {
      const run = await sseguard([...args, String(port)]);
      expect(run.code).toBe(2);
      // serve prints its --no-auth banner first; the error itself is one line.
      const errorLines = run.stderr.split('\n').filter((line) => line.startsWith('sseguard:'));
      expect(errorLines).toHaveLength(1);
      expect(`${errorLines[0]}\n`).toMatch(message);
    });
  });
});

describe('invoke', { timeout: CLI_TIMEOUT_MS }, () => {
  const sample = (name: string) => fileURLToPath(new URL(`../events/${name}`, import.meta.url));
  // Metrics on, as in Lambda: the CLI turns their EMF documents into one readable line.
  const invoking = (args: string[], env: Record<string, string | undefined> = {}) => sseguard(['invoke', ...args], { POWERTOOLS_METRICS_DISABLED: undefined, ...env });

  test('a handled message: a summary with the metrics, never raw EMF JSON; exit 0', async () => {
    const run = await invoking(['audit-worker', '--event', sample('s3-notification.json')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('audit-worker: every message of 1 handled');
    expect(run.stdout).toMatch(/^metrics: .*ObjectsAudited 1/m);
    expect(run.stdout + run.stderr).not.toContain('"_aws"');
  });

  test('batch item failures: exit 1, each failed message said', async () => {
    const run = await invoking(['audit-worker', '--event', sample('s3-notification.json')], { AWS_ENDPOINT_URL_S3: DEAD, SSEGUARD_MAX_ATTEMPTS: '1' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/audit-worker: 1 message\(s\) of 1 FAILED \(batch item failures: [\w-]+\); SQS would deliver them again/);
    expect(run.stderr).toContain('sseguard: error: message failed: 1 objects could not be audited');
  });

  test('a missing table is named as such in a failed message, not "Requested resource not found"', async () => {
    const run = await invoking(['audit-worker', '--event', sample('s3-notification.json')], { SSEGUARD_TABLE: 'never-created' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/sseguard: error: message failed: table never-created does not exist in us-east-1 on http:\/\/127\.0\.0\.1:\d+: run `sseguard init`/);
  });

  test('a message dead-lettered to the queue is said loudly, exit 1', async () => {
    const run = await invoking(['audit-worker', '--event', file('garbage.json', '{"not":"an event"}')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/!! 1 message\(s\) were SENT TO THE DEAD-LETTER QUEUE on http:\/\/127\.0\.0\.1:\d+ \(queue sseguard-audit-dlq\)/);
  });

  test('against AWS (no SQS endpoint) the worker warns before it runs that dead letters go to the real queue', async () => {
    // The endpoint variables are unset: nothing is called, the event is s3:TestEvent (ignored).
    const run = await invoking(['audit-worker', '--event', sample('s3-test-event.json')], { AWS_ENDPOINT_URL: undefined, AWS_ENDPOINT_URL_SQS: undefined, AWS_ENDPOINT_URL_S3: DEAD, AWS_ENDPOINT_URL_KMS: DEAD, AWS_ENDPOINT_URL_DYNAMODB: DEAD });
    expect(run.stderr).toContain('sseguard: warning: no SQS endpoint is set: a message the worker cannot use is dead-lettered to the real queue sseguard-audit-dlq in us-east-1');
    expect(run.code).toBe(0);
  });
});

describe('the account for S3 Batch Operations', { timeout: CLI_TIMEOUT_MS }, () => {
  test('jobs runs without SSEGUARD_ACCOUNT_ID (each job record carries its account)', async () => {
    const run = await sseguard(['jobs', '--json'], { SSEGUARD_ACCOUNT_ID: undefined });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ jobs: [], open: 0 });
  });

  test('unset, it is STS GetCallerIdentity\'s account; set, SSEGUARD_ACCOUNT_ID wins without a call', async () => {
    const config = loadConfig({ ...process.env, SSEGUARD_ACCOUNT_ID: undefined });
    expect(await callerAccountId(config)).toBe('123456789012');
    expect((await withAccountId(config)).batch.accountId).toBe('123456789012');
    const overridden = loadConfig({ ...process.env, SSEGUARD_ACCOUNT_ID: '210987654321' });
    expect((await withAccountId(overridden, { ...process.env, AWS_ENDPOINT_URL_STS: DEAD })).batch.accountId).toBe('210987654321');
  });

  test('STS under faults: a 5xx is retried (bounded); a 5xx on every attempt is an error, never "set SSEGUARD_ACCOUNT_ID" (the proxy answers with S3\'s 500 body: it has no STS shapes)', async () => {
    const proxy = await startFaultProxy({ target: process.env.AWS_ENDPOINT_URL!, rules: [{ service: '*', rate: 1, kind: 'server-error', times: 1 }] });
    try {
      const config = loadConfig({ ...process.env, SSEGUARD_ACCOUNT_ID: undefined, SSEGUARD_MAX_ATTEMPTS: '3' });
      const env = { ...process.env, AWS_ENDPOINT_URL_STS: proxy.endpoint };
      expect(await callerAccountId(config, env)).toBe('123456789012');
      proxy.setRules([{ service: '*', rate: 1, kind: 'server-error' }]);
      const failure = await callerAccountId(config, env).catch((error: unknown) => error as Error);
      expect(failure).toBeInstanceOf(Error);
      expect(failure).not.toBeInstanceOf(AccountLookupError);
      expect((failure as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(500);
    } finally {
      await proxy.close();
    }
  });

  test('scan --batch without SSEGUARD_ACCOUNT_ID takes the account from STS', async () => {
    const run = await sseguard(['scan', '--bucket', 'vocab-data', '--remediate', '--batch', '--json'], { SSEGUARD_ACCOUNT_ID: undefined, SSEGUARD_BATCH_ROLE_ARN: undefined });
    // The account is found; the run stops at the next missing setting, the role.
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('SSEGUARD_ACCOUNT_ID');
    expect(run.stderr).toContain('role');
  });
});
