import { expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config.ts';

const DEFAULTS = {
  table: 'sseguard-findings',
  queue: 'sseguard-audit',
  deadLetterQueue: 'sseguard-audit-dlq',
  idempotencyTable: 'sseguard-idempotency',
  maxReceiveCount: 5,
  sweepBuckets: [],
  sweepRegions: [],
  sweepIntervalHours: 24,
  sweepAllVersions: false,
  sweepInventory: 'off',
  sweepInventoryMaxAgeHours: 24,
  reverifyDays: 30,
  endpoints: {},
  timeouts: { connectMs: 3000, socketIdleMs: 3000, requestMs: 60000, maxAttempts: 3 },
  fixLeaseBaseMs: 60000,
  batch: { prefix: 'sseguard-batch', priority: 10 },
  memberRoleName: 'sseguard-audit',
};

test('defaults: table, queue and DLQ names, 5 deliveries, no endpoint, no policy, no sweep buckets', () => {
  expect(loadConfig({ AWS_REGION: 'eu-west-1' })).toEqual({ region: 'eu-west-1', ...DEFAULTS });
});

test('queue settings: a URL or a name; the DLQ follows the queue unless named; sweep globs split on commas', () => {
  const config = loadConfig({
    AWS_REGION: 'us-east-1',
    SSEGUARD_QUEUE: 'https://sqs.us-east-1.amazonaws.com/123456789012/audit',
    SSEGUARD_MAX_RECEIVE_COUNT: '3',
    SSEGUARD_SWEEP_BUCKETS: 'prod-*, !prod-logs ,',
  });
  expect(config).toMatchObject({
    queue: 'https://sqs.us-east-1.amazonaws.com/123456789012/audit',
    deadLetterQueue: 'https://sqs.us-east-1.amazonaws.com/123456789012/audit-dlq',
    maxReceiveCount: 3,
    sweepBuckets: ['prod-*', '!prod-logs'],
  });
  expect(() => loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_MAX_RECEIVE_COUNT: 'lots' })).toThrow('SSEGUARD_MAX_RECEIVE_COUNT is not a number');
});

test('AWS_DEFAULT_REGION is accepted where AWS_REGION is unset, as the AWS CLI does', () => {
  expect(loadConfig({ AWS_DEFAULT_REGION: 'us-west-2' }).region).toBe('us-west-2');
});

test.each([
  [{}, 'AWS_REGION is not set'],
  [{ AWS_REGION: '' }, 'AWS_REGION is not set'],
  [{ AWS_REGION: 'Frankfurt' }, 'AWS_REGION "Frankfurt" is not an AWS Region'],
  [{ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'localhost:4566' }, 'AWS_ENDPOINT_URL is not an http(s) URL'],
  [{ AWS_REGION: 'us-east-1', SSEGUARD_TABLE: 'a b' }, 'SSEGUARD_TABLE is not a DynamoDB table name'],
  [{ AWS_REGION: 'us-east-1', SSEGUARD_REVERIFY_DAYS: '0' }, 'SSEGUARD_REVERIFY_DAYS must be at least 1'],
  [{ AWS_REGION: 'us-east-1', SSEGUARD_REVERIFY_DAYS: '1.5' }, 'SSEGUARD_REVERIFY_DAYS is a whole number of days'],
  [{ AWS_REGION: 'us-east-1', SSEGUARD_ATHENA_DIFF_TABLE: 'inventory' }, 'SSEGUARD_ATHENA_DIFF_TABLE is not DATABASE.TABLE'],
  [{ AWS_REGION: 'us-east-1', SSEGUARD_ATHENA_DIFF_TABLE: 'db.t' }, 'SSEGUARD_ATHENA_DIFF_TABLE is set without SSEGUARD_ATHENA_OUTPUT'],
  [{ AWS_REGION: 'us-east-1', SSEGUARD_ATHENA_DIFF_TABLE: 'db.t', SSEGUARD_ATHENA_OUTPUT: 'results/' }, 'SSEGUARD_ATHENA_OUTPUT is not an s3://bucket/prefix/ location'],
  [{ AWS_REGION: 'us-east-1', SSEGUARD_ATHENA_POLL_SECONDS: '901' }, 'SSEGUARD_ATHENA_POLL_SECONDS must be at most 900'],
])('%j → one clear line: %s', (env, message) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
});

test('the Athena diff of the Lambda tier: off unless SSEGUARD_ATHENA_DIFF_TABLE is set; its workgroup, output, deadline and poll delay', () => {
  expect(loadConfig({ AWS_REGION: 'us-east-1' }).athenaDiff).toBeUndefined();
  expect(loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_ATHENA_DIFF_TABLE: 'sseguard.inventory', SSEGUARD_ATHENA_OUTPUT: 's3://results/diff' }).athenaDiff).toEqual({
    table: { database: 'sseguard', table: 'inventory' },
    workGroup: 'primary',
    outputLocation: 's3://results/diff/',
    deadlineMs: 1_800_000,
    pollSeconds: 15,
  });
  expect(
    loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_ATHENA_DIFF_TABLE: 'd.t', SSEGUARD_ATHENA_OUTPUT: 's3://results/', SSEGUARD_ATHENA_WORKGROUP: 'audits', SSEGUARD_ATHENA_DEADLINE_SECONDS: '600', SSEGUARD_ATHENA_POLL_SECONDS: '0' }).athenaDiff,
  ).toMatchObject({ workGroup: 'audits', deadlineMs: 600_000, pollSeconds: 0 });
});

test('all settings read', () => {
  expect(
    loadConfig({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      SSEGUARD_TABLE: 'findings.prod',
      SSEGUARD_POLICY: 'policy.yaml',
    }),
  ).toEqual({
    ...DEFAULTS,
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:4566',
    endpoints: { s3: 'http://127.0.0.1:4566', kms: 'http://127.0.0.1:4566', dynamodb: 'http://127.0.0.1:4566', sqs: 'http://127.0.0.1:4566', eventbridge: 'http://127.0.0.1:4566', athena: 'http://127.0.0.1:4566', sts: 'http://127.0.0.1:4566', organizations: 'http://127.0.0.1:4566' },
    table: 'findings.prod',
    policyPath: 'policy.yaml',
  });
});

test('service-specific endpoints win over AWS_ENDPOINT_URL, as in every AWS SDK', () => {
  const config = loadConfig({
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4566',
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:5000',
  });
  expect(config.endpoints).toEqual({
    s3: 'http://127.0.0.1:4566',
    dynamodb: 'http://127.0.0.1:5000',
    kms: 'http://127.0.0.1:1',
    sqs: 'http://127.0.0.1:1',
    eventbridge: 'http://127.0.0.1:1',
    athena: 'http://127.0.0.1:1',
    sts: 'http://127.0.0.1:1',
    organizations: 'http://127.0.0.1:1',
  });
  expect(loadConfig({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:4599' }).endpoints).toEqual({ kms: 'http://127.0.0.1:4599' });
  expect(() => loadConfig({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_SQS: 'sqs.local' })).toThrow('AWS_ENDPOINT_URL_SQS is not an http(s) URL');
});

test('how much inventory work one worker message does: rows and seconds per data-file message, keys per reconciliation message; validated', () => {
  expect(
    loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_INVENTORY_ROWS_PER_MESSAGE: '5000', SSEGUARD_INVENTORY_SECONDS_PER_MESSAGE: '60', SSEGUARD_RECONCILE_KEYS_PER_MESSAGE: '200000' }).inventoryWork,
  ).toEqual({ rowsPerMessage: 5000, msPerMessage: 60_000, keysPerReconcileMessage: 200_000 });
  expect(loadConfig({ AWS_REGION: 'us-east-1' }).inventoryWork).toBeUndefined();
  expect(() => loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_INVENTORY_ROWS_PER_MESSAGE: '0' })).toThrow('SSEGUARD_INVENTORY_ROWS_PER_MESSAGE must be more than 0');
  expect(() => loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_RECONCILE_KEYS_PER_MESSAGE: '1.5' })).toThrow('SSEGUARD_RECONCILE_KEYS_PER_MESSAGE must be a whole number');
});

test('timeouts and the fix lease are configurable and validated', () => {
  const config = loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_SOCKET_TIMEOUT_MS: '5000', SSEGUARD_MAX_ATTEMPTS: '4', SSEGUARD_FIX_LEASE_MS: '2000' });
  expect(config.timeouts).toMatchObject({ socketIdleMs: 5000, maxAttempts: 4 });
  expect(config.fixLeaseBaseMs).toBe(2000);
  expect(() => loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_CONNECT_TIMEOUT_MS: '10' })).toThrow('SSEGUARD_CONNECT_TIMEOUT_MS must be at least 100');
  expect(() => loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_MAX_ATTEMPTS: '1.5' })).toThrow('SSEGUARD_MAX_ATTEMPTS must be a whole number');
});

test('S3 Batch Operations settings: account, role, report bucket, prefix and priority, each validated', () => {
  const config = loadConfig({
    AWS_REGION: 'us-east-1',
    SSEGUARD_ACCOUNT_ID: '123456789012',
    SSEGUARD_BATCH_ROLE_ARN: 'arn:aws:iam::123456789012:role/sseguard-batch',
    SSEGUARD_BATCH_REPORT_BUCKET: 'batch-reports',
    SSEGUARD_BATCH_PREFIX: 'ops/batch/',
    SSEGUARD_BATCH_PRIORITY: '50',
  });
  expect(config.batch).toEqual({
    accountId: '123456789012',
    roleArn: 'arn:aws:iam::123456789012:role/sseguard-batch',
    reportBucket: 'batch-reports',
    prefix: 'ops/batch',
    priority: 50,
  });
  expect(() => loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_ACCOUNT_ID: '1234' })).toThrow(/SSEGUARD_ACCOUNT_ID is not a 12-digit/);
  expect(() => loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_BATCH_PRIORITY: '-1' })).toThrow(/SSEGUARD_BATCH_PRIORITY cannot be negative/);
});

test('the sweep uses inventory reports only when told to; a report may be as old as the sweep interval unless a maximum age is set', () => {
  expect(loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_SWEEP_INVENTORY: 'auto', SSEGUARD_SWEEP_INTERVAL_HOURS: '12' })).toMatchObject({
    sweepInventory: 'auto',
    sweepInventoryMaxAgeHours: 12,
  });
  expect(loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_SWEEP_INVENTORY_MAX_AGE_HOURS: '48' }).sweepInventoryMaxAgeHours).toBe(48);
  expect(() => loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_SWEEP_INVENTORY: 'yes' })).toThrow('SSEGUARD_SWEEP_INVENTORY is off or auto');
  expect(() => loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_SWEEP_INVENTORY_MAX_AGE_HOURS: '0' })).toThrow('SSEGUARD_SWEEP_INVENTORY_MAX_AGE_HOURS must be more than 0');
});

test('member accounts: the audit role name (or ARN template) and external id the worker uses, validated', () => {
  expect(loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_MEMBER_ROLE_NAME: 'arn:{partition}:iam::{account}:role/audit/sseguard', SSEGUARD_MEMBER_EXTERNAL_ID: 'ext-123' })).toMatchObject({
    memberRoleName: 'arn:{partition}:iam::{account}:role/audit/sseguard',
    memberExternalId: 'ext-123',
  });
  expect(() => loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_MEMBER_ROLE_NAME: 'not a role' })).toThrow(/SSEGUARD_MEMBER_ROLE_NAME is not a role name/);
});

test('SSEGUARD_EVENT_BUS (a name or an ARN) and SSEGUARD_SECURITY_HUB=on turn pushing on; anything else is refused', () => {
  expect(loadConfig({ AWS_REGION: 'us-east-1' }).integrations).toBeUndefined();
  expect(loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_EVENT_BUS: 'security-alerts' }).integrations).toEqual({ securityHub: false, eventBus: 'security-alerts' });
  const arn = 'arn:aws:events:us-east-1:123456789012:event-bus/security-alerts';
  expect(loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_EVENT_BUS: arn, SSEGUARD_SECURITY_HUB: 'on' }).integrations).toEqual({ securityHub: true, eventBus: arn });
  expect(() => loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_SECURITY_HUB: 'yes' })).toThrow(/SSEGUARD_SECURITY_HUB is on or off/);
  expect(() => loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_EVENT_BUS: 'has space' })).toThrow(/SSEGUARD_EVENT_BUS is not an event bus name or ARN/);
});
