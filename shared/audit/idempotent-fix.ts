// Runs each object's fix at most once across deliveries, workers and runs: Powertools idempotency
// keyed by the object version, its audited ETag and the target, kept in a DynamoDB table. A
// duplicate delivery gets the first run's outcome instead of fixing again; one that arrives while
// the first is still running fails and is retried by the queue.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import type { RemediationOutcome } from '../remediation/index.ts';
import type { FixOnce } from './remediator.ts';

/** How long a fix is remembered: longer than any redelivery of the same event. */
const REMEMBER_FIXES_SECONDS = 7 * 24 * 3600;

export function idempotentFix(dynamodb: DynamoDBClient, tableName: string): { fixOnce: FixOnce; registerLambdaContext(context: Context): void } {
  const config = new IdempotencyConfig({ expiresAfterSeconds: REMEMBER_FIXES_SECONDS });
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: dynamodb });
  // The identity (argument 0) makes the key; the fix itself (argument 1) is what runs once.
  const once = makeIdempotent(
    async (_identity: Parameters<FixOnce>[0], fix: () => Promise<RemediationOutcome>) => fix(),
    { persistenceStore, config, dataIndexArgument: 0 },
  );
  return {
    fixOnce: (identity, fix) => once(identity, fix),
    registerLambdaContext: (context) => config.registerLambdaContext(context),
  };
}
