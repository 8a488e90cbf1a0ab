// The outbox deliverer's dependencies: the findings table (DynamoDB alone, as the report API builds
// it) and the destinations the stage turns on. No S3, KMS or SQS client: its bundle carries the
// EventBridge and Security Hub clients instead, which the audit worker's bundle has no room for.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoDbClients } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { configuredDestinations } from '#shared/delivery/destinations.ts';
import type { Destination } from '#shared/delivery/outbox-delivery.ts';
import { linkedConfig } from './linked-config.ts';
import { traced } from './traced-clients.ts';

export interface OutboxDeliveryDependencies {
  config: Config;
  documents: DynamoDBDocumentClient;
  /** Empty when the stage pushes nowhere (SSEGUARD_EVENT_BUS and SSEGUARD_SECURITY_HUB unset). */
  destinations: Destination[];
}

let deliverer: Promise<OutboxDeliveryDependencies> | undefined;

async function build(): Promise<OutboxDeliveryDependencies> {
  const config = linkedConfig();
  const { dynamodb, documents } = createDynamoDbClients({ endpoints: config.endpoints, timeouts: config.timeouts });
  traced(dynamodb);
  return { config, documents, destinations: await configuredDestinations(config) };
}

/** Built once per process (not through runtime.ts's memo: that module would bundle the S3, KMS and SQS clients); a failed build is tried again. */
export function outboxDeliveryDependencies(): Promise<OutboxDeliveryDependencies> {
  deliverer ??= build().catch((error: unknown) => {
    deliverer = undefined;
    throw error;
  });
  return deliverer;
}

/** For tests that change the environment between cases. */
export function resetOutboxDeliveryDependencies(): void {
  deliverer = undefined;
}
