// The report API's dependencies: a DynamoDB document client, traced, and the configuration that
// names the table. Nothing that reaches S3, KMS or SQS, so the API's bundle (and its role, which
// only reads the findings table: stacks/settings.ts) carries no inspector and no write path.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '#shared/config.ts';
import type { ReportTable } from '#shared/report/create-report-api.ts';
import { linkedConfig } from './linked-config.ts';
import { traced } from './traced-clients.ts';

export function reportTable(config: Config = linkedConfig()): ReportTable {
  // createAwsClients() (shared/aws/clients.ts) would also construct the S3, KMS and SQS clients and
  // so bundle them; until it offers the DynamoDB pair alone, its DynamoDB settings are repeated here.
  const dynamodb = traced(new DynamoDBClient({ ...(config.endpoint ? { endpoint: config.endpoint } : {}), maxAttempts: 5 }));
  const documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  return { clients: { documents }, config };
}
