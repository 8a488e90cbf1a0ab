// The destinations a configuration turns on, and one delivery run over them. The clients are imported
// only when their destination is on, so a process that pushes nowhere never loads them.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../config.ts';
import { deliverOutbox, type DeliveryOptions, type DeliveryResult, type Destination } from './outbox-delivery.ts';

export async function configuredDestinations(config: Config): Promise<Destination[]> {
  const destinations: Destination[] = [];
  const options = { endpoints: config.endpoints, timeouts: config.timeouts, ...(config.endpoint ? { endpoint: config.endpoint } : {}) };
  if (config.integrations?.eventBus) {
    const { createEventBridgeClient, eventBridgeDestination } = await import('./eventbridge.ts');
    destinations.push(eventBridgeDestination(createEventBridgeClient(options), config.integrations.eventBus));
  }
  if (config.integrations?.securityHub) {
    const { cachedCallerAccount, createSecurityHubClients, securityHubClientsPerAccount, securityHubDestination } = await import('./securityhub.ts');
    const { assumedRoleCredentials } = await import('../accounts/credentials.ts');
    const { securityHub, sts } = createSecurityHubClients(options);
    const partition = config.region.startsWith('cn-') ? 'aws-cn' : config.region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
    // A member's findings are imported with the member's audit role (SSEGUARD_MEMBER_ROLE_NAME).
    const member = assumedRoleCredentials({ roleName: config.memberRoleName, partition, ...(config.memberExternalId ? { externalId: config.memberExternalId } : {}) }, { sts, clientOptions: options });
    destinations.push(
      securityHubDestination(securityHub, { region: config.region, partition, callerAccount: cachedCallerAccount(sts), clientFor: securityHubClientsPerAccount(options, member) }),
    );
  }
  return destinations;
}

/** Delivers what the outbox holds to every configured destination (nothing when none is on). */
export async function deliverConfigured(config: Config, documents: DynamoDBDocumentClient, options: DeliveryOptions = {}): Promise<DeliveryResult | undefined> {
  const destinations = await configuredDestinations(config);
  if (destinations.length === 0) return undefined;
  return deliverOutbox(documents, config.table, destinations, options);
}
