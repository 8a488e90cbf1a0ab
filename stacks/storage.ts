// The findings table (single-table design, shared/findings/table.ts) and Powertools idempotency's
// table. Links carry names only: each function's IAM is written out in stacks/functions.ts.
import { findingsTable, IDEMPOTENCY_TABLE, type DynamoSettings } from './settings.ts';

function table(name: string, settings: DynamoSettings, stage: string) {
  return new sst.aws.Dynamo(name, {
    fields: settings.fields,
    primaryIndex: settings.primaryIndex,
    ...(settings.globalIndexes ? { globalIndexes: settings.globalIndexes } : {}),
    ...(settings.ttl ? { ttl: settings.ttl } : {}),
    deletionProtection: stage === 'production',
    transform: {
      table: (args: aws.dynamodb.TableArgs) => {
        args.pointInTimeRecovery = { enabled: settings.pointInTimeRecovery };
        args.serverSideEncryption = { enabled: true };
      },
    },
  });
}

export const findings = table('FindingsTable', findingsTable(), $app.stage);
export const idempotency = table('IdempotencyTable', IDEMPOTENCY_TABLE, $app.stage);

/** What handlers read through `Resource` (functions/commons/linked-config.ts). */
export const findingsLink = new sst.Linkable('FindingsTable', { properties: { name: findings.name } });
export const idempotencyLink = new sst.Linkable('IdempotencyTable', { properties: { name: idempotency.name } });
