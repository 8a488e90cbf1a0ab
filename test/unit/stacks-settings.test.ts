// The deployed system's settings (stacks/settings.ts), asserted without the SST runtime.
import { describe, expect, it } from 'vitest';
import { KEY_STATE_CALLS, parseKeyEvent } from '../../shared/events/key-events.ts';
import { findingsTableDefinition, INDEXES } from '../../shared/findings/table.ts';
import {
  ARCHITECTURE, AUDIT_QUEUE, FUNCTIONS, IDEMPOTENCY_TABLE, KEY_EVENT_PATTERN, RUNTIME, SWEEP,
  findingsTable, functionEnvironment, objectCreatedPattern, stageSettings, bucketInventory, inventoryScope, INVENTORY_FIELDS,
} from '../../stacks/settings.ts';
import { SWEEP_REQUIRED_FIELDS, unusableConfiguration } from '../../shared/sweep/inventory-or-listing.ts';
import { loadConfig } from '../../shared/config.ts';

describe('stacks/settings', () => {
  it('the findings table is the one sseguard init creates: keys, indexes, point-in-time recovery', () => {
    const table = findingsTable();
    expect(table.primaryIndex).toEqual({ hashKey: 'pk', rangeKey: 'sk' });
    expect(table.globalIndexes).toEqual(Object.fromEntries(Object.entries(INDEXES).map(([name, { pk, sk, projection }]) => [name, { hashKey: pk, rangeKey: sk, projection: projection === 'ALL' ? 'all' : 'keys-only' }])));
    expect(Object.keys(table.fields).sort()).toEqual(findingsTableDefinition('x').AttributeDefinitions!.map((a) => a.AttributeName).sort());
    expect(table.pointInTimeRecovery).toBe(true);
    expect(table.ttl).toBeUndefined();
  });

  it('the idempotency table matches Powertools: key id, TTL on expiration', () => {
    expect(IDEMPOTENCY_TABLE).toMatchObject({ fields: { id: 'string' }, primaryIndex: { hashKey: 'id' }, ttl: 'expiration' });
  });

  it('the audit queue hides a message for at least six worker timeouts and dead-letters after the worker’s count', () => {
    expect(AUDIT_QUEUE.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * FUNCTIONS.auditWorker.timeoutSeconds);
    expect(AUDIT_QUEUE.visibilityTimeoutSeconds).toBeLessThanOrEqual(12 * 3600);
    expect(AUDIT_QUEUE).toMatchObject({ batchSize: 10, partialBatchResponses: true });
    const env = functionEnvironment(stageSettings('dev'), 'a,b');
    expect(loadConfig({ AWS_REGION: 'us-east-1', ...env }).maxReceiveCount).toBe(AUDIT_QUEUE.maxReceiveCount);
  });

  it('functions: nodejs22.x on arm64, one sweep at a time, API within the gateway’s 30 s', () => {
    expect(RUNTIME).toBe('nodejs22.x');
    expect(ARCHITECTURE).toBe('arm64');
    expect(FUNCTIONS.sweep.reservedConcurrency).toBe(1);
    expect(FUNCTIONS.reportApi.timeoutSeconds).toBeLessThan(30);
    expect(SWEEP.schedule).toMatch(/^rate\(\d+ minutes?\)$/);
  });

  it('the key-event rule matches exactly the calls the handler acts on, and the handler accepts what it matches', () => {
    expect(KEY_EVENT_PATTERN).toEqual({
      source: ['aws.kms'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: { eventSource: ['kms.amazonaws.com'], eventName: [...KEY_STATE_CALLS] },
    });
    for (const eventName of KEY_EVENT_PATTERN.detail.eventName) {
      const event = { source: 'aws.kms', 'detail-type': 'AWS API Call via CloudTrail', detail: { eventSource: 'kms.amazonaws.com', eventName, requestParameters: { keyId: 'k' } } };
      expect(parseKeyEvent(event).kind).toBe('key-state');
    }
  });

  it('existing buckets are matched by S3 "Object Created" events on their names', () => {
    expect(objectCreatedPattern(['a', 'b'])).toEqual({ source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: ['a', 'b'] } } });
  });

  it('per stage: retain and INFO in production, remove and DEBUG elsewhere; Powertools names in the environment', () => {
    expect(stageSettings('production')).toMatchObject({ removal: 'retain', powertools: { serviceName: 'sseguard', logLevel: 'INFO', metricsNamespace: 'sseguard' } });
    expect(stageSettings('alice')).toMatchObject({ removal: 'remove', powertools: { logLevel: 'DEBUG', metricsNamespace: 'sseguard-alice' } });
    expect(functionEnvironment(stageSettings('production', { SSEGUARD_POLICY_FILE: 'policy.yaml' }), 'data')).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'sseguard', POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_NAMESPACE: 'sseguard',
      SSEGUARD_SWEEP_BUCKETS: 'data', SSEGUARD_POLICY: 'sseguard-policy.json',
    });
  });

  it('deploy-time lists are validated with the variable named', () => {
    expect(stageSettings('dev', { SSEGUARD_EXISTING_BUCKETS: 'logs, archive', SSEGUARD_CREATE_BUCKETS: '' })).toMatchObject({ createdBuckets: [], existingBuckets: ['logs', 'archive'] });
    expect(() => stageSettings('dev', { SSEGUARD_TARGET_KEY_ARNS: 'alias/finance' })).toThrow(/SSEGUARD_TARGET_KEY_ARNS: "alias\/finance" is not a KMS key ARN/);
    expect(() => stageSettings('dev', { SSEGUARD_CREATE_BUCKETS: '' })).toThrow(/no bucket to monitor/);
  });

  it('SSEGUARD_INVENTORY_DESTINATION: a daily, unfiltered inventory with every audit field on each monitored bucket, one the sweep accepts; the sweep and worker read only its reports', () => {
    const stage = stageSettings('production', { SSEGUARD_EXISTING_BUCKETS: 'prod-data', SSEGUARD_INVENTORY_DESTINATION: 'prod-reports/sseguard' });
    expect(stage.inventory).toEqual({ destinationBucket: 'prod-reports', prefix: 'sseguard', format: 'CSV' });
    const inventory = bucketInventory('prod-data', stage.inventory!);
    expect(inventory).toEqual({
      name: 'sseguard',
      enabled: true,
      includedObjectVersions: 'Current',
      schedule: { frequency: 'Daily' },
      optionalFields: [...INVENTORY_FIELDS],
      destination: { bucket: { format: 'CSV', bucketArn: 'arn:aws:s3:::prod-reports', prefix: 'sseguard' } },
    });
    for (const field of SWEEP_REQUIRED_FIELDS) expect(inventory.optionalFields).toContain(field);
    // The configuration as S3 hands it back to the sweep (ListBucketInventoryConfigurations) is usable.
    expect(unusableConfiguration({
      Id: inventory.name, IsEnabled: true, IncludedObjectVersions: 'Current', Schedule: { Frequency: 'Daily' }, OptionalFields: inventory.optionalFields,
      Destination: { S3BucketDestination: { Bucket: inventory.destination.bucket.bucketArn, Format: 'CSV', Prefix: 'sseguard' } },
    }, ['CSV'])).toBeUndefined();
    expect(functionEnvironment(stage, 'prod-data')).toMatchObject({ SSEGUARD_SWEEP_INVENTORY: 'auto', SSEGUARD_SWEEP_INVENTORY_MAX_AGE_HOURS: '36' });
    const config = loadConfig({ AWS_REGION: 'us-east-1', ...(functionEnvironment(stage, 'prod-data') as Record<string, string>) });
    expect(config).toMatchObject({ sweepInventory: 'auto', sweepInventoryMaxAgeHours: 36 });
    expect(inventoryScope(stage, (r) => `arn:aws:s3:::${r}`)).toEqual({ inventoryDestinations: ['arn:aws:s3:::prod-reports'], inventoryReports: ['arn:aws:s3:::prod-reports/sseguard/*'] });

    const without = stageSettings('dev');
    expect(without.inventory).toBeUndefined();
    expect(functionEnvironment(without, 'x')).not.toHaveProperty('SSEGUARD_SWEEP_INVENTORY');
    expect(inventoryScope(without, (r) => `arn:aws:s3:::${r}`)).toEqual({ inventoryDestinations: [], inventoryReports: [] });
    expect(() => stageSettings('dev', { SSEGUARD_EXISTING_BUCKETS: 'logs', SSEGUARD_INVENTORY_DESTINATION: 'logs' })).toThrow(/is a monitored bucket/);
    expect(() => stageSettings('dev', { SSEGUARD_INVENTORY_DESTINATION: 'Bad_Bucket' })).toThrow(/SSEGUARD_INVENTORY_DESTINATION: "Bad_Bucket" is not a bucket name/);
  });

  it('the sweep refuses inventory configurations that cannot stand in for a listing, saying why', () => {
    const usable = {
      Id: 'a', IsEnabled: true, IncludedObjectVersions: 'Current' as const, Schedule: { Frequency: 'Daily' as const }, OptionalFields: [...INVENTORY_FIELDS],
      Destination: { S3BucketDestination: { Bucket: 'arn:aws:s3:::r', Format: 'CSV' as const } },
    };
    expect(unusableConfiguration({ ...usable, IsEnabled: false })).toBe('disabled');
    expect(unusableConfiguration({ ...usable, Filter: { Prefix: 'logs/' } })).toBe('filtered to logs/');
    expect(unusableConfiguration({ ...usable, Destination: { S3BucketDestination: { Bucket: 'arn:aws:s3:::r', Format: 'ORC' } } })).toBe('format ORC (read here: CSV, Parquet)');
    // The Lambda sweep reads CSV only.
    expect(unusableConfiguration({ ...usable, Destination: { S3BucketDestination: { Bucket: 'arn:aws:s3:::r', Format: 'Parquet' } } }, ['CSV'])).toBe('format Parquet (read here: CSV)');
    expect(unusableConfiguration({ ...usable, OptionalFields: ['Size', 'ETag'] })).toBe('no EncryptionStatus, BucketKeyStatus field');
  });
});
