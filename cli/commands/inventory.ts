// `sseguard inventory setup`: puts the S3 Inventory configuration the audit's inventory tier reads
// (shared/inventory/setup.ts says which fields and why). Also registers `sseguard plan` and the
// emulator's `deliver-inventory`, so that cli/main.ts gains one line for all three.
import { PutBucketInventoryConfigurationCommand } from '@aws-sdk/client-s3';
import { createAwsClients } from '#shared/aws/clients.ts';
import { errorFacts } from '#shared/aws/errors.ts';
import { InventoryError } from '#shared/inventory/errors.ts';
import { AUDIT_FIELDS, destinationPolicyStatement, inventoryConfiguration, type InventorySetupOptions } from '#shared/inventory/setup.ts';

export interface InventorySetupCommandOptions extends InventorySetupOptions {
  dryRun: boolean;
  json: boolean;
}

export async function inventorySetupCommand(options: InventorySetupCommandOptions): Promise<number> {
  let configuration;
  try {
    configuration = inventoryConfiguration(options);
  } catch (error) {
    if (!(error instanceof InventoryError)) throw error;
    console.error(`sseguard inventory setup: ${error.message}`);
    return 2;
  }
  const statement = destinationPolicyStatement(options.bucket, options.destinationBucket, '<account id of the source bucket>', configuration.Destination?.S3BucketDestination?.Prefix);
  if (!options.dryRun) {
    try {
      await createAwsClients().s3.send(
        new PutBucketInventoryConfigurationCommand({ Bucket: options.bucket, Id: configuration.Id, InventoryConfiguration: configuration }),
      );
    } catch (error) {
      const { name, message } = errorFacts(error);
      console.error(`sseguard inventory setup: PutBucketInventoryConfiguration on ${options.bucket} failed: ${name}: ${message}`);
      return 2;
    }
  }
  if (options.json) {
    console.log(JSON.stringify({ applied: !options.dryRun, bucket: options.bucket, configuration, destinationPolicyStatement: statement }, null, 2));
    return 0;
  }
  const dest = configuration.Destination!.S3BucketDestination!;
  const where = `s3://${options.destinationBucket}${dest.Prefix ? `/${dest.Prefix}` : ''}`;
  console.log(`${options.dryRun ? 'Would put' : 'Put'} inventory configuration ${configuration.Id} on ${options.bucket}:`);
  console.log(`  ${configuration.Schedule!.Frequency} ${dest.Format} report of ${configuration.IncludedObjectVersions === 'All' ? 'all versions' : 'current versions'} to ${where}/${options.bucket}/${configuration.Id}/`);
  console.log(`  fields: ${AUDIT_FIELDS.join(', ')}`);
  console.log(`\nThe destination bucket's policy must let S3 write the reports; add this statement to ${options.destinationBucket}:`);
  console.log(JSON.stringify(statement, null, 2));
  console.log(`\nThe first report arrives within 48 hours. Then: sseguard plan --bucket ${options.bucket} --inventory ${where}`);
  return 0;
}
