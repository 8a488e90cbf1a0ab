// `sseguard inventory setup`, `sseguard emulator deliver-inventory` and `sseguard plan`, run as a
// user runs them, against the emulator.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetBucketInventoryConfigurationCommand } from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { createBucket, createKey, putObject } from '../support/aws-fixtures.ts';
import { runCli } from '../support/cli.ts';

const clients = createAwsClients();

const sseguard = (args: string[]) => runCli(args);

async function buckets() {
  const source = `src-${randomBytes(4).toString('hex')}`;
  const dest = `inv-${randomBytes(4).toString('hex')}`;
  await createBucket(clients, source);
  await createBucket(clients, dest);
  return { source, dest };
}

describe('sseguard inventory setup', () => {
  test('puts a configuration with every audit field, and prints the destination policy statement', async () => {
    const { source, dest } = await buckets();
    const run = await sseguard(['inventory', 'setup', '--bucket', source, '--destination-bucket', dest, '--destination-prefix', 'reports', '--format', 'Parquet', '--versions', 'all']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"Service": "s3.amazonaws.com"');
    const { InventoryConfiguration: c } = await clients.s3.send(new GetBucketInventoryConfigurationCommand({ Bucket: source, Id: 'sseguard' }));
    expect(c?.IncludedObjectVersions).toBe('All');
    expect(c?.Destination?.S3BucketDestination).toMatchObject({ Bucket: `arn:aws:s3:::${dest}`, Prefix: 'reports', Format: 'Parquet' });
    expect(c?.OptionalFields).toEqual(expect.arrayContaining(['EncryptionStatus', 'BucketKeyStatus', 'ETag', 'ObjectLockMode', 'ChecksumAlgorithm']));
  });

  test('refuses ORC and a destination equal to the source, saying why, and puts nothing', async () => {
    const { source } = await buckets();
    const orc = await sseguard(['inventory', 'setup', '--bucket', source, '--destination-bucket', 'elsewhere', '--format', 'ORC']);
    expect(orc.code).toBe(2);
    expect(orc.stderr).toMatch(/Allowed choices are CSV, Parquet/);
    const same = await sseguard(['inventory', 'setup', '--bucket', source, '--destination-bucket', source]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/must be another bucket than/);
  });
});

describe('sseguard plan', () => {
  test('reads the delivered report and prices audit and fix; --json carries the numbers', async () => {
    const { source, dest } = await buckets();
    const key = await createKey(clients);
    await putObject(clients, source, 'a/1', { mode: 'sse-s3' });
    await putObject(clients, source, 'a/2', { mode: 'sse-s3' });
    await putObject(clients, source, 'b/kms', { mode: 'sse-kms', key });
    await putObject(clients, source, 'c/cust', { mode: 'sse-c' });
    expect((await sseguard(['inventory', 'setup', '--bucket', source, '--destination-bucket', dest, '--destination-prefix', 'reports'])).code).toBe(0);
    const delivered = await sseguard(['emulator', 'deliver-inventory', '--bucket', source]);
    expect(delivered.stderr).toBe('');
    expect(delivered.stdout).toMatch(/sseguard: 4 rows in 1 file\(s\)/);

    const text = await sseguard(['plan', '--bucket', source, '--inventory', `s3://${dest}/reports`]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Prices of \d{4}-\d\d-\d\d/);
    expect(text.stdout).toMatch(/HEAD sweep/);

    const run = await sseguard(['plan', '--bucket', source, '--inventory', `s3://${dest}/reports`, '--json']);
    const plan = JSON.parse(run.stdout);
    expect(plan.objects).toBe(4);
    expect(plan.byMode['sse-s3'].current.objects).toBe(2);
    expect(plan.rates.prefixes).toBe(3);
    expect(plan.audit.headSweep.s3Requests).toBe(4 + 1);
    expect(plan.audit.inventorySweepFirst.s3Requests).toBe(1);
    expect(Object.fromEntries(plan.fix.byMethod.map((m: { method: string; objects: number }) => [m.method, m.objects]))).toEqual({ update: 2, none: 1, blocked: 1 });
  });

  test('a prices file overrides the table; a bad one is an error naming the field', async () => {
    const { source, dest } = await buckets();
    await putObject(clients, source, 'k', { mode: 'sse-s3' });
    await sseguard(['inventory', 'setup', '--bucket', source, '--destination-bucket', dest]);
    await sseguard(['emulator', 'deliver-inventory', '--bucket', source]);
    const dir = mkdtempSync(join(tmpdir(), 'sseguard-plan-'));
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ date: '2030-01-01', s3: { getHeadPer1000: 1000 } }));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ s3: { getHeadPer1000: 'cheap' } }));
    const ok = JSON.parse((await sseguard(['plan', '-b', source, '-i', `s3://${dest}`, '--prices', join(dir, 'ok.json'), '--json'])).stdout);
    expect(ok.prices.date).toBe('2030-01-01');
    expect(ok.audit.headSweep.dollars).toBeCloseTo(1 + 0.000005, 6);
    const bad = await sseguard(['plan', '-b', source, '-i', `s3://${dest}`, '--prices', join(dir, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.json: s3\.getHeadPer1000/);
  });

  test('without a report the error says where it looked', async () => {
    const { source, dest } = await buckets();
    const run = await sseguard(['plan', '--bucket', source, '--inventory', `s3://${dest}/reports`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`no inventory report for ${source} under s3://${dest}/reports/${source}/`);
  });
});
