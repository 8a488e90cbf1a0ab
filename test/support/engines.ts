// Which emulator the integration tests run against: SSEGUARD_TEST_ENGINE = moto (the default, the
// patched moto server every suite is written for), ministack (a second opinion on DynamoDB, SQS,
// EventBridge and the KMS lifecycle: the `ministack` vitest project) or localstack (test/localstack/:
// LocalStack for S3, KMS, SQS, EventBridge, with DynamoDB on moto). vitest.config.ts chooses the
// projects from the same variable; .ci/run runs one vitest invocation per engine.
import { ENGINES, isEngine, type Engine } from '../../cli/emulator-process.ts';

export function testEngine(env: NodeJS.ProcessEnv = process.env): Engine {
  const value = env.SSEGUARD_TEST_ENGINE?.trim() || 'moto';
  if (!isEngine(value)) throw new Error(`SSEGUARD_TEST_ENGINE=${value} is not one of ${ENGINES.join(', ')}`);
  return value;
}

/**
 * The suites that do not depend on S3 encryption semantics, which ministack also runs: findings
 * store, report API, key events, posture, sweep paging, SQS redrive, DynamoDB transactions, S3
 * notifications. Never remediation: ministack's UpdateObjectEncryption overwrites object data.
 */
export const MINISTACK_SUITES = [
  'test/integration/findings-store.test.ts',
  'test/integration/report-api.test.ts',
  'test/integration/key-events.test.ts',
  'test/integration/posture.test.ts',
  'test/integration/posture-cli.test.ts',
  'test/integration/sweep.test.ts',
  'test/integration/keys-only-indexes.test.ts',
  'test/integration/audit-worker-redrive.test.ts',
  'test/emulator/dynamodb-transactions.test.ts',
  'test/emulator/dynamodb-transaction-tokens.test.ts',
  'test/emulator/s3-event-notifications.test.ts',
  'test/ministack/**/*.test.ts',
];

/**
 * Empties LocalStack through the AWS API, since its community edition has no reset endpoint:
 * every bucket (all versions, then the bucket), queue, EventBridge rule and customer alias goes.
 * KMS keys cannot be deleted at once; each file creates its own, so the ones left are harmless.
 */
export async function emptyLocalstack(): Promise<void> {
  const { S3Client, ListBucketsCommand, ListObjectVersionsCommand, DeleteObjectsCommand, DeleteBucketCommand } = await import('@aws-sdk/client-s3');
  const { SQSClient, ListQueuesCommand, DeleteQueueCommand } = await import('@aws-sdk/client-sqs');
  const { EventBridgeClient, ListRulesCommand, ListTargetsByRuleCommand, RemoveTargetsCommand, DeleteRuleCommand } = await import('@aws-sdk/client-eventbridge');
  const { KMSClient, ListAliasesCommand, DeleteAliasCommand } = await import('@aws-sdk/client-kms');
  const s3 = new S3Client({ forcePathStyle: true });
  for (const { Name: bucket } of (await s3.send(new ListBucketsCommand({}))).Buckets ?? []) {
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket! }));
      const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId! }));
      if (objects.length === 0) break;
      // Governance-mode retention and legal holds would need more; the LocalStack suites set none.
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket!, Delete: { Objects: objects, Quiet: true } }));
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket! }));
  }
  const sqs = new SQSClient({});
  for (const url of (await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? []) await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
  const events = new EventBridgeClient({});
  for (const { Name } of (await events.send(new ListRulesCommand({}))).Rules ?? []) {
    const ids = ((await events.send(new ListTargetsByRuleCommand({ Rule: Name! }))).Targets ?? []).map((t) => t.Id!);
    if (ids.length) await events.send(new RemoveTargetsCommand({ Rule: Name!, Ids: ids }));
    await events.send(new DeleteRuleCommand({ Name: Name! }));
  }
  const kms = new KMSClient({});
  for (const { AliasName } of (await kms.send(new ListAliasesCommand({}))).Aliases ?? []) {
    if (AliasName && !AliasName.startsWith('alias/aws/')) await kms.send(new DeleteAliasCommand({ AliasName }));
  }
}
