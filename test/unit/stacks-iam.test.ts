// Each function's IAM actions equal what its code can send, computed from the code (see
// test/support/sdk-calls.ts for how) and mapped to IAM actions by the table below.
import { describe, expect, it } from 'vitest';
import { iamStatements, s3ServiceName, type FunctionName, type IamScope } from '../../stacks/settings.ts';
import { sdkCallsOf, type SdkCall } from '../support/sdk-calls.ts';

/**
 * SDK operation → IAM actions (Service Authorization Reference; S3 "Actions, resources, and
 * condition keys"). Version-specific actions are included where the code passes a VersionId
 * (HeadObject, GetObjectAcl, GetObjectTagging, CopyObject/UploadPartCopy sources). The KMS
 * actions of the S3 writes are the ones S3 needs on the caller's behalf for SSE-KMS sources
 * (Decrypt, ReEncryptFrom) and targets (GenerateDataKey, Encrypt, ReEncryptTo); the copy keeps
 * ACL grants, tags and Object Lock settings, hence PutObjectAcl/Tagging/Retention/LegalHold.
 */
const IAM_ACTIONS: Record<string, string[]> = {
  's3 HeadObject': ['s3:GetObject', 's3:GetObjectVersion'],
  's3 ListObjectsV2': ['s3:ListBucket'],
  's3 ListBuckets': ['s3:ListAllMyBuckets'],
  's3 GetObjectAcl': ['s3:GetObjectAcl', 's3:GetObjectVersionAcl'],
  's3 GetObjectTagging': ['s3:GetObjectTagging', 's3:GetObjectVersionTagging'],
  's3 GetBucketEncryption': ['s3:GetEncryptionConfiguration'],
  's3 GetBucketPolicy': ['s3:GetBucketPolicy'],
  's3 UpdateObjectEncryption': ['s3:UpdateObjectEncryption', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:GenerateDataKey', 'kms:Encrypt', 'kms:ReEncryptTo'],
  's3 CopyObject': ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:PutObjectAcl', 's3:PutObjectTagging', 's3:PutObjectRetention', 's3:PutObjectLegalHold', 'kms:Decrypt', 'kms:GenerateDataKey'],
  's3 CreateMultipartUpload': ['s3:PutObject', 's3:PutObjectAcl', 's3:PutObjectTagging', 's3:PutObjectRetention', 's3:PutObjectLegalHold', 'kms:GenerateDataKey'],
  's3 UploadPartCopy': ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 'kms:Decrypt', 'kms:GenerateDataKey'],
  's3 CompleteMultipartUpload': ['s3:PutObject', 'kms:Decrypt'],
  's3 AbortMultipartUpload': ['s3:AbortMultipartUpload'],
  'kms DescribeKey': ['kms:DescribeKey'],
  'kms GetKeyRotationStatus': ['kms:GetKeyRotationStatus'],
  'dynamodb GetItem': ['dynamodb:GetItem'],
  'dynamodb PutItem': ['dynamodb:PutItem'],
  'dynamodb UpdateItem': ['dynamodb:UpdateItem'],
  'dynamodb DeleteItem': ['dynamodb:DeleteItem'],
  'dynamodb Get': ['dynamodb:GetItem'],
  'dynamodb Put': ['dynamodb:PutItem'],
  'dynamodb Query': ['dynamodb:Query'],
  'dynamodb BatchGet': ['dynamodb:BatchGetItem'],
  'dynamodb BatchWrite': ['dynamodb:BatchWriteItem'],
  // sseguard's transactions hold Put, Update and ConditionCheck items (no Delete).
  'dynamodb TransactWrite': ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
  'sqs SendMessage': ['sqs:SendMessage'],
  'sqs SendMessageBatch': ['sqs:SendMessage'],
  'sqs GetQueueUrl': ['sqs:GetQueueUrl'],
};

const service = (call: SdkCall) => call.module.replace(/^@aws-sdk\/(client|lib)-/, '');

/**
 * Reached by name only: the report API builds the findings store for its summary and the posture
 * store for its postures, and uses only their readers. These methods are reachable in the analysis
 * because other code uses the same names (zod's z.record…); the report API is read-only and gets none.
 */
const NOT_SENT: Partial<Record<FunctionName, Record<string, string[]>>> = {
  reportApi: {
    'dynamodb BatchWrite': ['recordKeys'],
    // The findings store's and the posture store's writers; the API reads postures only (summary, list).
    'dynamodb TransactWrite': ['recordChunk', 'record'],
  },
};

const ENTRIES: Record<FunctionName, string> = {
  auditWorker: 'functions/audit-worker.ts',
  sweep: 'functions/sweep.ts',
  keyEvents: 'functions/key-events.ts',
  reportApi: 'functions/report-api.ts',
};

const scope: IamScope<string> = {
  buckets: ['arn:aws:s3:::data', 'arn:aws:s3:::legacy'],
  objects: ['arn:aws:s3:::data/*', 'arn:aws:s3:::legacy/*'],
  findingsTable: ['arn:aws:dynamodb:us-east-1:111122223333:table/findings', 'arn:aws:dynamodb:us-east-1:111122223333:table/findings/index/*'],
  idempotencyTable: ['arn:aws:dynamodb:us-east-1:111122223333:table/idempotency'],
  auditQueue: ['arn:aws:sqs:us-east-1:111122223333:audit'],
  deadLetterQueue: ['arn:aws:sqs:us-east-1:111122223333:audit-dlq'],
  auditKeys: ['arn:aws:kms:us-east-1:111122223333:key/*'],
  targetKeys: ['arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
};
const statementsOf = (fn: FunctionName) => iamStatements(fn, scope, s3ServiceName('us-east-1'));
const SDK_SERVICES = /^(s3|kms|dynamodb|sqs):/;

describe('IAM actions per function equal the SDK calls its code can send', () => {
  it.each(Object.keys(ENTRIES) as FunctionName[])('%s', async (fn) => {
    const calls = await sdkCallsOf(ENTRIES[fn]);
    const notSent = NOT_SENT[fn] ?? {};
    for (const [operation, units] of Object.entries(notSent)) {
      // An exclusion must still describe the code: the call exists, only in the named units.
      const call = calls.find((c) => `${service(c)} ${c.operation}` === operation);
      expect(call, `${operation} no longer reachable: remove it from NOT_SENT`).toBeDefined();
      expect(call!.units.sort()).toEqual([...units].sort());
    }
    const sent = calls.filter((c) => !(`${service(c)} ${c.operation}` in notSent));
    const unmapped = sent.filter((c) => !(`${service(c)} ${c.operation}` in IAM_ACTIONS)).map((c) => `${c.module} ${c.operation}`);
    expect(unmapped, 'operations without an IAM mapping').toEqual([]);
    const needed = new Set(sent.flatMap((c) => IAM_ACTIONS[`${service(c)} ${c.operation}`]!));
    const granted = new Set(statementsOf(fn).flatMap((s) => s.actions).filter((a) => SDK_SERVICES.test(a)));
    expect([...granted].sort()).toEqual([...needed].sort());
  }, 60_000);
});

describe('IAM resources', () => {
  const all = (Object.keys(ENTRIES) as FunctionName[]).flatMap((fn) => statementsOf(fn).map((s) => ({ fn, ...s })));

  it('object actions name only the monitored buckets’ objects, bucket actions only the buckets', () => {
    for (const s of all) {
      const objectActions = s.actions.filter((a) => /^s3:(Get|Put)Object|^s3:AbortMultipartUpload|^s3:UpdateObjectEncryption/.test(a));
      if (objectActions.length > 0) expect(s.resources, `${s.fn} ${s.sid}`).toEqual(scope.objects);
      if (s.actions.some((a) => ['s3:ListBucket', 's3:GetEncryptionConfiguration', 's3:GetBucketPolicy'].includes(a))) expect(s.resources).toEqual(scope.buckets);
    }
  });

  it('"*" only where IAM allows nothing narrower: ListAllMyBuckets and X-Ray', () => {
    for (const s of all.filter((s) => s.resources.includes('*'))) {
      expect(s.actions.every((a) => a === 's3:ListAllMyBuckets' || a.startsWith('xray:')), `${s.fn} ${s.sid}`).toBe(true);
    }
  });

  it('KMS encryption happens only through S3 and only with the target keys', () => {
    for (const s of all.filter((s) => s.actions.some((a) => /^kms:(Encrypt|GenerateDataKey|ReEncryptTo)$/.test(a)))) {
      expect(s.resources).toEqual(scope.targetKeys);
      expect(s.conditions).toEqual([{ test: 'StringEquals', variable: 'kms:ViaService', values: ['s3.us-east-1.amazonaws.com'] }]);
    }
    for (const s of all.filter((s) => s.actions.includes('kms:Decrypt'))) expect(s.conditions?.[0]?.variable).toBe('kms:ViaService');
  });

  it('DynamoDB and SQS actions name only the app’s tables and queues', () => {
    const own = new Set([...scope.findingsTable, ...scope.idempotencyTable, ...scope.auditQueue, ...scope.deadLetterQueue]);
    for (const s of all.filter((s) => s.actions.some((a) => /^(dynamodb|sqs):/.test(a)))) {
      for (const r of s.resources) expect(own.has(r as string), `${s.fn} ${s.sid}: ${String(r)}`).toBe(true);
    }
  });

  it('only the worker may dead-letter and only the sweep may enqueue', () => {
    const sends = all.filter((s) => s.actions.includes('sqs:SendMessage'));
    expect(sends.map((s) => [s.fn, s.resources])).toEqual([
      ['auditWorker', scope.deadLetterQueue],
      ['sweep', scope.auditQueue],
    ]);
  });
});
