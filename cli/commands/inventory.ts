// `sseguard inventory setup`: puts the S3 Inventory configuration the audit's inventory tier reads
// (shared/inventory/setup.ts says which fields and why). Also registers `sseguard plan` and the
// emulator's `deliver-inventory`, so that cli/main.ts gains one line for all three.
import { PutBucketInventoryConfigurationCommand } from '@aws-sdk/client-s3';
import { Command, Option } from 'commander';
import { createAwsClients } from '#shared/aws/clients.ts';
import { errorFacts } from '#shared/aws/errors.ts';
import { InventoryError } from '#shared/inventory/errors.ts';
import { AUDIT_FIELDS, destinationPolicyStatement, inventoryConfiguration, type InventorySetupOptions } from '#shared/inventory/setup.ts';
import { deliverInventoryCommand } from './deliver-inventory.ts';
import { registerPlanCommand } from './plan.ts';

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

export function registerInventoryCommands(program: Command, setExit: (code: number) => void, bucketName: (value: string) => string): void {
  const inventory = program.command('inventory').description('S3 Inventory reports as cheap evidence for audits of large buckets');
  inventory
    .command('setup')
    .description('put an S3 Inventory configuration with every field the encryption audit reads')
    .requiredOption('-b, --bucket <name>', 'bucket to inventory', bucketName)
    .requiredOption('-d, --destination-bucket <name>', 'bucket the reports are delivered to (another bucket, same Region)', bucketName)
    .option('-p, --prefix <prefix>', 'key prefix of the reports in the destination bucket')
    .addOption(new Option('--format <format>', 'report format (ORC is not read by sseguard)').choices(['CSV', 'Parquet']).default('CSV'))
    .addOption(new Option('--versions <versions>', 'current versions only, or every version').choices(['current', 'all']).default('current'))
    .option('--id <id>', 'configuration id (the report folder name)', 'sseguard')
    .addOption(new Option('--frequency <frequency>', 'how often S3 delivers').choices(['daily', 'weekly']).default('daily'))
    .option('--destination-account <id>', "the destination bucket's account, when it is another account")
    .option('--dry-run', 'print the configuration, put nothing', false)
    .option('--json', 'print one JSON document', false)
    .addHelpText(
      'after',
      `
Fields requested: ${AUDIT_FIELDS.join(', ')}.
With --versions all, S3 adds VersionId, IsLatest and IsDeleteMarker: noncurrent versions are audited too.
Reports land at s3://<destination>/<prefix>/<bucket>/<id>/YYYY-MM-DDTHH-MMZ/manifest.json; the
destination's bucket policy must allow s3.amazonaws.com to PutObject there (the command prints the statement).

Examples:
  sseguard inventory setup --bucket my-data --destination-bucket my-inventories --prefix reports
  sseguard inventory setup --bucket my-data --destination-bucket my-inventories --format Parquet --versions all --dry-run`,
    )
    .action(async (options: { bucket: string; destinationBucket: string; prefix?: string; format: string; versions: string; id: string; frequency: string; destinationAccount?: string; dryRun: boolean; json: boolean }) => {
      const { destinationAccount, ...rest } = options;
      setExit(await inventorySetupCommand({ ...rest, ...(destinationAccount ? { destinationAccountId: destinationAccount } : {}) }));
    });

  registerPlanCommand(program, setExit, bucketName);

  // The emulator's stand-in for S3's daily delivery, as a subcommand of `sseguard emulator`.
  const emulator = program.commands.find((c) => c.name() === 'emulator');
  (emulator ?? program.command('emulator'))
    .command('deliver-inventory')
    .description("make the running emulator deliver a bucket's inventory report now (AWS delivers daily or weekly)")
    .requiredOption('-b, --bucket <name>', 'source bucket with an inventory configuration', bucketName)
    .option('--id <id>', 'only this configuration (default: every enabled one)')
    .option('--at <iso-date>', 'the report date (default now)')
    .option('--rows-per-file <n>', 'split the report into data files of this many rows')
    .option('--endpoint <url>', 'the emulator (default $AWS_ENDPOINT_URL)')
    .option('--json', 'print one JSON document', false)
    .action(async (options: { bucket: string; id?: string; at?: string; rowsPerFile?: string; endpoint?: string; json: boolean }) => {
      const at = options.at ? new Date(options.at) : undefined;
      if (at && Number.isNaN(at.getTime())) {
        console.error(`sseguard emulator deliver-inventory: --at must be an ISO 8601 date, got ${options.at}`);
        setExit(2);
        return;
      }
      const rowsPerFile = options.rowsPerFile ? Number(options.rowsPerFile) : undefined;
      if (rowsPerFile !== undefined && !(Number.isInteger(rowsPerFile) && rowsPerFile > 0)) {
        console.error('sseguard emulator deliver-inventory: --rows-per-file must be a whole number above 0');
        setExit(2);
        return;
      }
      setExit(
        await deliverInventoryCommand(options.endpoint ?? process.env.AWS_ENDPOINT_URL, {
          bucket: options.bucket,
          json: options.json,
          ...(options.id ? { id: options.id } : {}),
          ...(at ? { at } : {}),
          ...(rowsPerFile ? { rowsPerFile } : {}),
        }),
      );
    });
}
