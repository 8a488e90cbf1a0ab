// The report API's dependencies: a DynamoDB document client, traced, and the configuration that
// names the table. Nothing that reaches S3, KMS or SQS, so the API's bundle (and its role, which
// only reads the findings table: stacks/settings.ts) carries no inspector and no write path.
import { createDynamoDbClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import type { ReportTable } from '#shared/report-api/create-report-api.ts';
import { linkedConfig } from './linked-config.ts';
import { traced } from './traced-clients.ts';

export function reportTable(config: Config = linkedConfig()): ReportTable {
  // The DynamoDB pair alone (the same timeouts, retry and endpoints as every client): createAwsClients
  // would also construct the S3, KMS and SQS clients and so bundle them.
  const { dynamodb, documents } = createDynamoDbClients({ endpoints: config.endpoints, timeouts: config.timeouts });
  // The document client shares the traced client's middleware stack: its calls are traced too.
  traced(dynamodb);
  return { clients: { documents }, config };
}
