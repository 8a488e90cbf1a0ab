// Regions inside one account (issue 17 item 1.3, issue 18 §1): a KMS key is asked in the Region its
// ARN names and a bucket's calls go to the bucket's Region, whatever AWS_REGION says. moto keeps each
// Region's KMS keys apart (a key asked in another Region is NotFoundException, as on AWS), but serves
// every bucket from every Region: the fault proxy's `wrong-region` rule answers as AWS does
// (400 AuthorizationHeaderMalformed + x-amz-bucket-region) to S3 calls signed for another Region.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAliasCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutBucketEncryptionCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { handler as keyEventsHandler, type KeyEventResult } from '../../functions/key-events.ts';
import { scanBucket } from '../../shared/audit/scan.ts';
import { createAwsClients, type AwsClients } from '../../shared/aws/clients.ts';
import { createRegionalClients } from '../../shared/aws/regional-clients.ts';
import { loadConfig } from '../../shared/config.ts';
import type { Finding } from '../../shared/domain/finding.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { KmsKeyInspector } from '../../shared/inspect/key-inspector.ts';
import { loadPolicy } from '../../shared/policy-loader.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { createRuntime, scanDependencies } from '../../shared/runtime.ts';
import { createKey, disableKey, putObject, scheduleDeletion, type TestKey } from '../support/aws-fixtures.ts';
import { runCli, verdictsOf } from '../support/cli.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { bucketsToSweep, type SkippedBucket } from '../../shared/sweep/buckets.ts';
import { postureDependencies } from '../../shared/posture/posture-dependencies.ts';

const originalRegion = process.env.AWS_REGION;
Object.assign(process.env, { SSEGUARD_TABLE: 'regions-findings', SSEGUARD_QUEUE: 'regions-audit', SSEGUARD_DLQ: 'regions-audit-dlq' });
delete process.env.SSEGUARD_POLICY;

/** Clients that write in `region` (a user's application there), whatever the process's Region. */
function clientsIn(region: string): AwsClients {
  const regional = createRegionalClients(region);
  return { ...createAwsClients(), kms: regional.kmsFor(region), s3: regional.s3For(region) };
}
const useast = clientsIn('us-east-1');
const euwest = clientsIn('eu-west-1');

/** The process runs in `region` (AWS_REGION), as a user who set the wrong one would run it. */
function runIn(region: string) {
  process.env.AWS_REGION = region;
  resetHandlerRuntime();
  return createRuntime(loadConfig());
}

async function scanVerdicts(region: string, bucket: string, record = false): Promise<Record<string, string>> {
  const runtime = runIn(region);
  const findings: Finding[] = [];
  await scanBucket(await scanDependencies(runtime, undefined, { record }), { bucket, concurrency: 4, onFinding: (f) => void findings.push(f) });
  return Object.fromEntries(findings.map((f) => [f.key, `${f.verdict}${f.reasons.length ? ` ${f.reasons.map((r) => r.code).join(',')}` : ''}`]));
}

let customer: TestKey;
let disabled: TestKey;
let doomed: TestKey;
let euKey: TestKey;

beforeAll(async () => {
  customer = await createKey(useast, { rotation: true, alias: 'alias/regions-finance' });
  disabled = await createKey(useast, { rotation: true });
  doomed = await createKey(useast, { rotation: true });
  await useast.s3.send(new CreateBucketCommand({ Bucket: 'use1-data' }));
  await putObject(useast, 'use1-data', 'customer.bin', { mode: 'sse-kms', key: customer });
  await putObject(useast, 'use1-data', 'aws-s3-key.bin', { mode: 'sse-kms' });
  await putObject(useast, 'use1-data', 'disabled.bin', { mode: 'sse-kms', key: disabled });
  await putObject(useast, 'use1-data', 'doomed.bin', { mode: 'sse-kms', key: doomed });
  await putObject(useast, 'use1-data', 'sse-s3.bin', { mode: 'sse-s3' });
  await disableKey(useast, disabled);
  await scheduleDeletion(useast, doomed);

  euKey = await createKey(euwest, { rotation: true });
  await euwest.kms.send(new CreateAliasCommand({ AliasName: 'alias/regions-finance', TargetKeyId: euKey.id }));
  await euwest.s3.send(new CreateBucketCommand({ Bucket: 'euw1-data', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
  await putObject(euwest, 'euw1-data', 'customer.bin', { mode: 'sse-kms', key: euKey });
  await putObject(euwest, 'euw1-data', 'aws-s3-key.bin', { mode: 'sse-kms' });
  await putObject(euwest, 'euw1-data', 'sse-s3.bin', { mode: 'sse-s3' });
});

afterEach(() => {
  delete process.env.SSEGUARD_POLICY;
});

afterAll(() => {
  process.env.AWS_REGION = originalRegion;
  resetHandlerRuntime();
});

describe('KMS keys are asked in the Region their ARN names', () => {
  test('a bucket and keys in us-east-1 audited with AWS_REGION=eu-west-1 give the same verdicts as with us-east-1', async () => {
    const home = await scanVerdicts('us-east-1', 'use1-data');
    expect(home).toEqual({
      'customer.bin': 'compliant',
      'aws-s3-key.bin': 'compliant',
      'disabled.bin': 'at-risk kms-key-disabled',
      'doomed.bin': 'at-risk kms-key-pending-deletion',
      'sse-s3.bin': 'compliant',
    });
    // Before: every KMS object here was at-risk kms-key-not-found, the aws/s3 key's included.
    expect(await scanVerdicts('eu-west-1', 'use1-data')).toEqual(home);
  });

  test('a bucket in eu-west-1 with its key in eu-west-1 is judged right while the process runs in us-east-1', async () => {
    expect(await scanVerdicts('us-east-1', 'euw1-data')).toEqual({ 'customer.bin': 'compliant', 'aws-s3-key.bin': 'compliant', 'sse-s3.bin': 'compliant' });
  });

  test('"not found" stays a verdict when the key\'s own Region says so', async () => {
    const keys = new KmsKeyInspector(createRegionalClients('eu-west-1'));
    const missing = 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000';
    expect(await keys.lookup(missing)).toMatchObject({ status: 'not-found', arn: missing });
    // The same key id asked in another Region than its own is the defect; its ARN now decides.
    expect(await keys.lookup(customer.arn)).toMatchObject({ status: 'described', arn: customer.arn, state: 'Enabled' });
    expect(await keys.lookup(customer.id)).toMatchObject({ status: 'not-found' });
    expect(await keys.lookup(customer.id, 'us-east-1')).toMatchObject({ status: 'described', arn: customer.arn });
  });

  test('a policy naming keys by ARN in another Region loads; a bare alias is resolved in the process\'s Region', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sseguard-regions-'));
    const path = join(dir, 'policy.json');
    const aliasArn = customer.arn.replace(/key\/.*$/, 'alias/regions-finance');
    writeFileSync(path, JSON.stringify({
      version: 1,
      rules: [
        { bucket: 'use1-*', require: 'sse-kms', kmsKeys: [customer.arn, aliasArn], target: { mode: 'sse-kms', kmsKey: customer.arn } },
        { bucket: 'euw1-*', require: 'sse-kms', kmsKeys: ['alias/regions-finance'] },
      ],
    }));
    const policy = await loadPolicy(path, runIn('eu-west-1').keys);
    expect(policy.rules[0]).toMatchObject({ kmsKeys: [customer.arn], target: { kmsKey: customer.arn } });
    expect(policy.rules[1]).toMatchObject({ kmsKeys: [euKey.arn] });
    // Run in us-east-1, the bare alias names us-east-1's key of that name.
    expect((await loadPolicy(path, runIn('us-east-1').keys)).rules[1]).toMatchObject({ kmsKeys: [customer.arn] });
    expect(readFileSync(path, 'utf8')).toContain(customer.arn);
  });
});

test('a bucket default of aws:kms without a key is judged by the aws/s3 key of the bucket\'s Region, not the process\'s', async () => {
  await euwest.s3.send(new CreateBucketCommand({ Bucket: 'euw1-default', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
  await euwest.s3.send(
    new PutBucketEncryptionCommand({ Bucket: 'euw1-default', ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } }),
  );
  const runtime = runIn('us-east-1');
  const policy = await loadPolicy(undefined, runtime.keys);
  const facts = await postureDependencies(runtime, policy, { record: false }).buckets.inspect('euw1-default');
  expect(facts.defaultKey).toMatchObject({ status: 'described', arn: expect.stringMatching(/^arn:aws:kms:eu-west-1:/) });
});

describe('S3 calls go to the bucket\'s Region', () => {
  let proxy: FaultProxy;
  const endpoint = process.env.AWS_ENDPOINT_URL;
  beforeAll(async () => {
    proxy = await startFaultProxy({
      target: process.env.AWS_ENDPOINT_URL_S3 ?? endpoint!,
      rules: [
        { service: 's3', path: /^\/euw1-data(\/|$)/, bucketRegion: 'eu-west-1', kind: 'wrong-region', rate: 1 },
        { service: 's3', path: /^\/use1-data(\/|$)/, bucketRegion: 'us-east-1', kind: 'wrong-region', rate: 1 },
      ],
    });
    process.env.AWS_ENDPOINT_URL_S3 = proxy.endpoint;
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL_S3;
    await proxy.close();
  });

  test('a bucket in another Region is audited there: a redirect is never read as an SSE-C object', async () => {
    proxy.resetStats();
    // Before: HeadObject signed for us-east-1 got S3's bare 400 and was recorded as an SSE-C object.
    expect(await scanVerdicts('us-east-1', 'euw1-data')).toEqual({ 'customer.bin': 'compliant', 'aws-s3-key.bin': 'compliant', 'sse-s3.bin': 'compliant' });
    expect(await scanVerdicts('eu-west-1', 'use1-data')).toMatchObject({ 'customer.bin': 'compliant', 'disabled.bin': 'at-risk kms-key-disabled' });
    // The bucket's Region is learnt once (one HeadBucket each), not per object.
    expect(proxy.stats().requests['s3:HeadBucket']).toBe(2);
    expect(Object.keys(proxy.stats().faults).filter((k) => !k.startsWith('s3:HeadBucket'))).toEqual([]);
  });

  test('asking a bucket\'s Region under throttling is weather: the scan waits and judges every object as before', async () => {
    const wrongRegion = [
      { service: 's3' as const, path: /^\/euw1-data(\/|$)/, bucketRegion: 'eu-west-1', kind: 'wrong-region' as const, rate: 1 },
    ];
    // Every attempt of the first HeadBucket calls (the SDK's three, then the listing's retry) is throttled.
    proxy.setRules([{ service: 's3', operation: 'HeadBucket', kind: 'throttle', rate: 1, times: 4 }, ...wrongRegion]);
    proxy.resetStats();
    try {
      expect(await scanVerdicts('us-east-1', 'euw1-data')).toEqual({ 'customer.bin': 'compliant', 'aws-s3-key.bin': 'compliant', 'sse-s3.bin': 'compliant' });
      expect(proxy.stats().faults['s3:HeadBucket:throttle']).toBe(4);
    } finally {
      proxy.setRules(wrongRegion);
    }
  });
});

describe('faults in the key\'s Region are weather, never a verdict', () => {
  test.each(['throttle', 'server-error'] as const)('KMS %s in us-east-1 while the process runs in eu-west-1: no finding is made of it', async (kind) => {
    const kmsEndpoint = process.env.AWS_ENDPOINT_URL_KMS;
    const proxy = await startFaultProxy({ target: kmsEndpoint ?? process.env.AWS_ENDPOINT_URL!, rules: [{ service: 'kms', region: 'us-east-1', kind, rate: 1 }] });
    process.env.AWS_ENDPOINT_URL_KMS = proxy.endpoint;
    // One attempt per call: the SDK's adaptive limiter would otherwise slow a run that is throttled throughout.
    process.env.SSEGUARD_MAX_ATTEMPTS = '1';
    try {
      const runtime = runIn('eu-west-1');
      const findings: Finding[] = [];
      const notAudited: Finding[] = [];
      const result = await scanBucket(await scanDependencies(runtime, undefined, { record: false }), {
        bucket: 'use1-data',
        concurrency: 4,
        defer: { attemptsPerObject: 2, baseDelayMs: 10, maxDelayMs: 20 },
        onFinding: (f) => void findings.push(f),
        onNotAudited: (f) => void notAudited.push(f),
      });
      expect(proxy.stats().faults[`kms:DescribeKey:${kind}`]).toBeGreaterThan(0);
      // Only the SSE-S3 object needs no key; every KMS object is left unaudited, none judged.
      expect(findings.map((f) => `${f.key} ${f.verdict}`)).toEqual(['sse-s3.bin compliant']);
      expect(result.notAudited).toBe(4);
    } finally {
      delete process.env.SSEGUARD_MAX_ATTEMPTS;
      if (kmsEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_KMS;
      else process.env.AWS_ENDPOINT_URL_KMS = kmsEndpoint;
      await proxy.close();
    }
  });
});

describe('key events from another Region', () => {
  test('a DisableKey event for a us-east-1 key re-evaluates its objects while the process runs in eu-west-1', async () => {
    const runtime = runIn('eu-west-1');
    await ensureFindingsTable(runtime.clients.dynamodb, runtime.config.table);
    await ensureIdempotencyTable(runtime.clients.dynamodb, runtime.config.idempotencyTable);
    await ensureQueues(runtime.clients.sqs, runtime.config);
    const watched = await createKey(useast, { rotation: true });
    await useast.s3.send(new CreateBucketCommand({ Bucket: 'use1-watched' }));
    await putObject(useast, 'use1-watched', 'watched.bin', { mode: 'sse-kms', key: watched });
    expect(await scanVerdicts('eu-west-1', 'use1-watched', true)).toEqual({ 'watched.bin': 'compliant' });

    await disableKey(useast, watched);
    const sample = JSON.parse(readFileSync(new URL('../events/kms-disable-key.json', import.meta.url), 'utf8'));
    const event = {
      ...sample,
      region: 'us-east-1',
      detail: { ...sample.detail, awsRegion: 'us-east-1', eventName: 'DisableKey', requestParameters: { keyId: watched.id }, resources: [{ ...sample.detail.resources[0], ARN: watched.arn }] },
    };
    runIn('eu-west-1');
    const result = (await keyEventsHandler(event, localLambdaContext('key-events'))) as KeyEventResult & { status: 'reevaluated' };
    expect(result).toMatchObject({ status: 'reevaluated', objects: 1, verdicts: { 'at-risk': 1 } });
    const recorded = [];
    for await (const page of runIn('eu-west-1').store.findings({ bucket: 'use1-watched' })) recorded.push(...page);
    expect(recorded).toEqual([expect.objectContaining({ key: 'watched.bin', verdict: 'at-risk', reasons: [expect.objectContaining({ code: 'kms-key-disabled' })] })]);
  });
});

describe('--regions limits a run; a bucket outside it is reported as skipped', () => {
  test('scan --regions: a bucket in a chosen Region is audited; one elsewhere is named as skipped, exit 0, nothing audited', async () => {
    const env = { AWS_REGION: 'us-east-1' };
    const chosen = await runCli(['scan', '--bucket', 'euw1-data', '--regions', 'eu-west-1,us-west-2', '--no-record', '--json'], env);
    expect(chosen.code, chosen.stderr).toBe(0);
    expect(verdictsOf(chosen.stdout)).toEqual({ 'customer.bin': 'compliant', 'aws-s3-key.bin': 'compliant', 'sse-s3.bin': 'compliant' });

    const skipped = await runCli(['scan', '--bucket', 'euw1-data', '--regions', 'us-east-1', '--no-record', '--json'], env);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toContain('s3://euw1-data skipped: it is in eu-west-1, outside --regions us-east-1');
    expect(JSON.parse(skipped.stdout)).toMatchObject({ skipped: { bucket: 'euw1-data', region: 'eu-west-1' } });
  });

  test('the sweep\'s bucket listing keeps the chosen Regions and names each bucket it skips', async () => {
    const runtime = runIn('us-east-1');
    const skipped: SkippedBucket[] = [];
    const regionOf = (bucket: string) => runtime.bucketRegions.regionOf(bucket);
    expect(await bucketsToSweep(runtime.clients.s3, ['*-data'], { regions: ['eu-west-1'], regionOf, onSkipped: (s) => void skipped.push(s) })).toEqual(['euw1-data']);
    expect(skipped).toEqual([{ bucket: 'use1-data', region: 'us-east-1', reason: 's3://use1-data skipped: it is in us-east-1, outside SSEGUARD_SWEEP_REGIONS eu-west-1' }]);
    // Without a choice: every Region the account has buckets in.
    expect(await bucketsToSweep(runtime.clients.s3, ['*-data'], { regions: [], regionOf })).toEqual(['euw1-data', 'use1-data']);
  });

  test('an invalid Region is one line at start, exit 2: AWS_REGION and --regions alike', async () => {
    const badRegion = await runCli(['scan', '--bucket', 'use1-data', '--no-record'], { AWS_REGION: 'us-east-01' });
    expect(badRegion.code).toBe(2);
    expect(badRegion.stderr.trim()).toMatch(/^sseguard: .*AWS_REGION "us-east-01" is not an AWS Region \(for example: us-east-1\): did you mean us-east-1\?$/);
    const badFlag = await runCli(['scan', '--bucket', 'use1-data', '--regions', 'eu-west-01', '--no-record'], { AWS_REGION: 'us-east-1' });
    expect(badFlag.code).toBe(2);
    // The usage error every bad option gets: the one line, then where help is.
    expect(badFlag.stderr.trim().split('\n')[0]).toContain("argument 'eu-west-01' is invalid. \"eu-west-01\" is not an AWS Region (for example: us-east-1): did you mean eu-west-1?");
  });
});
