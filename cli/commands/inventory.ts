// `sseguard inventory setup`: puts the S3 Inventory configuration the audit's inventory tier reads
// (shared/inventory/setup.ts says which fields and why). Also registers `sseguard plan` and the
// emulator's `deliver-inventory`, so that cli/main.ts gains one line for all three.
import { HeadBucketCommand, PutBucketInventoryConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { createAwsClients } from '#shared/aws/clients.ts';
import { errorFacts, unreachableEndpoint } from '#shared/aws/errors.ts';
import { InventoryError } from '#shared/inventory/errors.ts';
import { AUDIT_FIELDS, destinationPolicyStatement, inventoryConfiguration, type InventorySetupOptions } from '#shared/inventory/setup.ts';
import { CliError, warningLine } from '../vocabulary.ts';

export interface InventorySetupCommandOptions extends InventorySetupOptions {
  dryRun: boolean;
  json: boolean;
}

/**
 * S3 accepts a configuration whose destination bucket does not exist and then delivers nothing, so
 * the destination is checked first: 'exists', or 'unverified' when HeadBucket is denied (another
 * account's bucket); a missing bucket is an error.
 */
async function checkDestination(s3: S3Client, bucket: string): Promise<'exists' | 'unverified'> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return 'exists';
  } catch (error) {
    if (unreachableEndpoint(error, undefined)) throw error;
    const { name, status } = errorFacts(error);
    if (status === 404 || name === 'NotFound' || name === 'NoSuchBucket') {
      throw new CliError(`the destination bucket ${bucket} does not exist: create it (in the source bucket's Region) before S3 can deliver reports there`);
    }
    if (status === 403) return 'unverified';
    throw error;
  }
}

export async function inventorySetupCommand(options: InventorySetupCommandOptions): Promise<number> {
  let configuration;
  try {
    configuration = inventoryConfiguration(options);
  } catch (error) {
    if (!(error instanceof InventoryError)) throw error;
    throw new CliError(error.message);
  }
  const statement = destinationPolicyStatement(options.bucket, options.destinationBucket, '<account id of the source bucket>', configuration.Destination?.S3BucketDestination?.Prefix);
  let destination: 'exists' | 'unverified' | 'not checked' = 'not checked';
  if (!options.dryRun) {
    const { s3 } = createAwsClients();
    destination = await checkDestination(s3, options.destinationBucket);
    if (destination === 'unverified') console.error(warningLine(`cannot check that the destination bucket ${options.destinationBucket} exists (HeadBucket denied): make sure it does`));
    try {
      await s3.send(new PutBucketInventoryConfigurationCommand({ Bucket: options.bucket, Id: configuration.Id, InventoryConfiguration: configuration }));
    } catch (error) {
      if (unreachableEndpoint(error, undefined)) throw error;
      const { name, message } = errorFacts(error);
      throw new CliError(`PutBucketInventoryConfiguration on ${options.bucket} failed: ${name}: ${message}`);
    }
  }
  if (options.json) {
    console.log(JSON.stringify({ applied: !options.dryRun, bucket: options.bucket, destination, configuration, destinationPolicyStatement: statement }, null, 2));
    return 0;
  }
  if (destination === 'exists') console.log(`Destination bucket ${options.destinationBucket} exists.`);
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
