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
  'test/integration/sweep.test.ts',
  'test/emulator/dynamodb-transactions.test.ts',
  'test/emulator/s3-event-notifications.test.ts',
  'test/ministack/**/*.test.ts',
];
