// sseguard init and scan against LocalStack, as a user runs them: every mode and key state gets
// the verdict AWS would give, except where LocalStack is known to answer differently from AWS; each
// such expectation says so in its test name.
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { createBucket, createKey, disableKey, putObject, scheduleDeletion, type TestKey } from '../support/aws-fixtures.ts';
import { file, sseguard } from './cli.ts';

const BUCKET = 'localstack-audit';
const TABLE = 'localstack-scan-findings';
const POLICY = `
version: 1
default: { require: any }
rules:
  - bucket: ${BUCKET}
    prefix: kms-
    require: any-kms
    customerManagedKey: true
    keyRotation: required
`;

interface JsonFinding {
  key: string;
  mode: string;
  kmsKeyArn: string | null;
  verdict: string;
  reasons: (string | { code: string })[];
}

const clients = createAwsClients();
const run = (args: string[]) => sseguard(args, { SSEGUARD_TABLE: TABLE });
let keys: Record<'enabled' | 'noRotation' | 'disabled' | 'pending', TestKey>;
let findings: Map<string, JsonFinding>;
let scanSummary: { objects: number; notAudited: number; notAuditedExamples: { key: string; why: string }[] };
let scanExit: number;

const codes = (f: JsonFinding) => f.reasons.map((r) => (typeof r === 'string' ? r : r.code));
const summary = (key: string) => {
  const f = findings.get(key);
  expect(f, key).toBeDefined();
  return { mode: f!.mode, kmsKeyArn: f!.kmsKeyArn, verdict: f!.verdict, reasons: codes(f!) };
};

beforeAll(async () => {
  keys = {
    enabled: await createKey(clients, { rotation: true }),
    noRotation: await createKey(clients),
    disabled: await createKey(clients, { rotation: true }),
    pending: await createKey(clients, { rotation: true }),
  };
  await createBucket(clients, BUCKET);
  await putObject(clients, BUCKET, 'sse-s3.txt', { mode: 'sse-s3' });
  await putObject(clients, BUCKET, 'no-headers.txt', { mode: 'bucket-default' });
  await putObject(clients, BUCKET, 'kms-enabled.txt', { mode: 'sse-kms', key: keys.enabled, bucketKey: true });
  await putObject(clients, BUCKET, 'kms-no-rotation.txt', { mode: 'sse-kms', key: keys.noRotation });
  await putObject(clients, BUCKET, 'kms-managed.txt', { mode: 'sse-kms' });
  await putObject(clients, BUCKET, 'kms-disabled.txt', { mode: 'sse-kms', key: keys.disabled });
  await putObject(clients, BUCKET, 'kms-pending.txt', { mode: 'sse-kms', key: keys.pending });
  await putObject(clients, BUCKET, 'kms-dsse.txt', { mode: 'dsse-kms', key: keys.enabled });
  await putObject(clients, BUCKET, 'sse-c.bin', { mode: 'sse-c' });
  await putObject(clients, BUCKET, 'dir/with space+plus%41 ü.txt', { mode: 'sse-s3' });
  // Keys go bad after their objects exist, as in life.
  await disableKey(clients, keys.disabled);
  await scheduleDeletion(clients, keys.pending);

  const init = await run(['init']);
  expect(init.stderr).toBe('');
  expect(init.code).toBe(0);
  const scan = await run(['scan', '--bucket', BUCKET, '--policy', file('scan.yaml', POLICY), '--json']);
  expect(scan.stderr).toBe('');
  scanExit = scan.code;
  const document = JSON.parse(scan.stdout) as { findings: JsonFinding[]; summary: typeof scanSummary };
  findings = new Map(document.findings.map((f) => [f.key, f]));
  scanSummary = document.summary;
});

describe('sseguard init', () => {
  test('creates the findings table on moto (AWS_ENDPOINT_URL_DYNAMODB) and the queues on LocalStack, and says where', async () => {
    const again = await run(['init']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`table ${TABLE} already exists`);
    expect(again.stdout).toMatch(new RegExp(`audit queue ${process.env.AWS_ENDPOINT_URL_SQS}/\\d{12}/sseguard-audit `));
  });
});

describe('sseguard scan of a bucket in every mode and key state', () => {
  test('SSE-S3, said or by default, and SSE-C: the verdicts AWS gives', () => {
    expect(summary('sse-s3.txt')).toEqual({ mode: 'sse-s3', kmsKeyArn: null, verdict: 'compliant', reasons: [] });
    expect(summary('no-headers.txt')).toEqual({ mode: 'sse-s3', kmsKeyArn: null, verdict: 'compliant', reasons: [] });
    expect(summary('dir/with space+plus%41 ü.txt')).toMatchObject({ mode: 'sse-s3', verdict: 'compliant' });
    expect(summary('sse-c.bin')).toEqual({ mode: 'sse-c', kmsKeyArn: null, verdict: 'noncompliant', reasons: ['sse-c-forbidden'] });
  });

  test('customer-managed keys enabled, without rotation, disabled and pending deletion: the verdicts AWS gives', () => {
    expect(summary('kms-enabled.txt')).toEqual({ mode: 'sse-kms', kmsKeyArn: keys.enabled.arn, verdict: 'compliant', reasons: [] });
    expect(summary('kms-no-rotation.txt')).toEqual({ mode: 'sse-kms', kmsKeyArn: keys.noRotation.arn, verdict: 'noncompliant', reasons: ['kms-key-rotation-disabled'] });
    expect(summary('kms-disabled.txt')).toEqual({ mode: 'sse-kms', kmsKeyArn: keys.disabled.arn, verdict: 'at-risk', reasons: ['kms-key-disabled'] });
    expect(summary('kms-pending.txt')).toEqual({ mode: 'sse-kms', kmsKeyArn: keys.pending.arn, verdict: 'at-risk', reasons: ['kms-key-pending-deletion'] });
  });

  test('LocalStack differs from AWS: aws:kms without a key id uses a key LocalStack reports as CUSTOMER-managed without rotation, not the aws/s3 key (AWS: kms-key-aws-managed)', () => {
    const managed = summary('kms-managed.txt');
    // AWS: { mode: 'sse-kms', kmsKeyArn: <the aws/s3 key>, verdict: 'noncompliant', reasons: ['kms-key-aws-managed'] }
    // (AWS managed keys rotate every year, so rotation is no reason there).
    expect(managed).toEqual({ mode: 'sse-kms', kmsKeyArn: expect.stringMatching(/^arn:aws:kms:us-east-1:\d{12}:key\//), verdict: 'noncompliant', reasons: ['kms-key-rotation-disabled'] });
    expect(managed.kmsKeyArn).not.toBe(keys.enabled.arn);
  });

  test('LocalStack differs from AWS: a DSSE-KMS object reports no key id, so its key cannot be checked: unauditable, kms-key-not-reported (AWS: compliant, with the key ARN)', async () => {
    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'kms-dsse.txt' }));
    expect(head.ServerSideEncryption).toBe('aws:kms:dsse');
    expect(head.SSEKMSKeyId).toBeUndefined(); // AWS returns the key ARN
    // AWS: { mode: 'dsse-kms', kmsKeyArn: keys.enabled.arn, verdict: 'compliant', reasons: [] }
    // A definite answer, not weather: recorded at once, never retried.
    expect(summary('kms-dsse.txt')).toEqual({ mode: 'dsse-kms', kmsKeyArn: null, verdict: 'unauditable', reasons: ['kms-key-not-reported'] });
    expect(scanSummary.notAudited).toBe(0);
  });

  test('exit 1 (not everything is compliant), as on AWS; all ten objects have findings', () => {
    expect(scanExit).toBe(1);
    expect(scanSummary.objects).toBe(10);
    expect(findings.size).toBe(10);
  });

  test('sseguard report reads the findings back from DynamoDB', async () => {
    const report = await run(['report', '--format', 'json']);
    expect(report.code).toBe(0);
    const document = JSON.parse(report.stdout) as { findings: { key: string; verdict: string }[] };
    expect(document.findings.map((f) => f.key).sort()).toEqual([...findings.keys()].sort());
    expect(Object.fromEntries(document.findings.map((f) => [f.key, f.verdict]))).toMatchObject({ 'kms-disabled.txt': 'at-risk', 'sse-c.bin': 'noncompliant' });
  });
});
