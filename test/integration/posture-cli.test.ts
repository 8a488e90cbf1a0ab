// `sseguard posture`, `sseguard rollback` and the posture section of `sseguard scan`, end to end
// through bin/sseguard.js against the emulator.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetBucketPolicyCommand } from '@aws-sdk/client-s3';
import { beforeAll, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { createBucket, putObject } from '../support/aws-fixtures.ts';
import { putBucketPolicy } from '../support/posture-fixtures.ts';
import { runCli } from '../support/cli.ts';

const workdir = mkdtempSync(join(tmpdir(), 'sseguard-posture-cli-'));
const clients = createAwsClients();
const ORIGINAL = '{"Version":"2012-10-17","Statement":[{"Sid":"Keep","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::cli-posture"}]}';

const sseguard = (args: string[]) => runCli(args, { SSEGUARD_TABLE: 'posture-cli' });

/** The tests and the setup spawn the CLI several times each. */
const CLI_TIMEOUT_MS = 180_000;

let policy: string;
beforeAll(async () => {
  await createBucket(clients, 'cli-posture');
  await putObject(clients, 'cli-posture', 'a.txt', { mode: 'sse-s3' });
  await putBucketPolicy(clients, 'cli-posture', ORIGINAL);
  policy = join(workdir, 'policy.yaml');
  writeFileSync(policy, 'version: 1\ndefault: { require: any, requireTls: true, remediate: true, target: { mode: sse-s3 } }\n');
  expect((await sseguard(['init'])).code).toBe(0);
}, CLI_TIMEOUT_MS);

test('scan reports the bucket posture first, and in --json as "posture"; a failing posture fails the run', async () => {
  const text = await sseguard(['scan', '--bucket', 'cli-posture', '--policy', policy]);
  expect(text.code).toBe(1);
  expect(text.stdout.indexOf('Bucket posture of cli-posture: noncompliant')).toBe(0);
  expect(text.stdout).toContain('tls-not-required');
  const json = await sseguard(['scan', '--bucket', 'cli-posture', '--policy', policy, '--json']);
  const document = JSON.parse(json.stdout) as { posture: { verdict: string; tls: string }; findings: unknown[] };
  expect(document.posture).toMatchObject({ verdict: 'noncompliant', tls: 'not-enforced' });
  expect(document.findings).toHaveLength(1);
}, CLI_TIMEOUT_MS);

test('posture --remediate --dry-run prints the policy diff and changes nothing; --remediate merges; rollback prints and applies the undo', async () => {
  const dry = await sseguard(['posture', '--bucket', 'cli-posture', '--policy', policy, '--remediate', '--dry-run']);
  expect(dry.stdout).toContain('Changes planned, not made (dry run)');
  expect(dry.stdout).toContain('+ {"Version":"2012-10-17","Statement":[{"Sid":"Keep"');
  expect((await clients.s3.send(new GetBucketPolicyCommand({ Bucket: 'cli-posture' }))).Policy).toBe(ORIGINAL);

  const fix = await sseguard(['posture', '--bucket', 'cli-posture', '--policy', policy, '--remediate', '--json']);
  expect(fix.code).toBe(0);
  const outcome = JSON.parse(fix.stdout) as { applied: { id: string; kind: string }[]; after: { verdict: string } };
  expect(outcome.after.verdict).toBe('compliant');
  expect(outcome.applied.map((c) => c.kind)).toEqual(['bucket-policy']);

  const printed = await sseguard(['rollback', '--bucket', 'cli-posture']);
  expect(printed.stdout).toContain(`aws s3api put-bucket-policy --bucket 'cli-posture' --policy '${ORIGINAL}'`);
  const applied = await sseguard(['rollback', '--bucket', 'cli-posture', '--change', outcome.applied[0]!.id, '--apply']);
  expect(applied.code).toBe(0);
  expect((await clients.s3.send(new GetBucketPolicyCommand({ Bucket: 'cli-posture' }))).Policy).toBe(ORIGINAL);
}, CLI_TIMEOUT_MS);
