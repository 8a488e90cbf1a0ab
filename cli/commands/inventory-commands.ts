// Registers `sseguard inventory setup`, `sseguard plan` and `sseguard emulator deliver-inventory`.
// Commander only: each command's implementation (and the SDK under it) is imported when it runs.
import type { Command } from 'commander';
import { AUDIT_FIELDS } from '#shared/inventory/setup.ts';
import { CliError, choiceOption, deprecatedAlias } from '../vocabulary.ts';
import type { PlanCommandOptions } from './plan.ts';

export function registerInventoryCommands(program: Command, setExit: (code: number) => void, bucketName: (value: string) => string): void {
  const inventory = program.command('inventory').description('S3 Inventory reports as cheap evidence for audits of large buckets');
  const setup = inventory
    .command('setup')
    .description('put an S3 Inventory configuration with every field the encryption audit reads')
    .requiredOption('-b, --bucket <name>', 'bucket to inventory', bucketName)
    .requiredOption('-d, --destination-bucket <name>', 'bucket the reports are delivered to (another bucket, same Region)', bucketName)
    .option('--destination-prefix <prefix>', 'key prefix of the reports in the destination bucket')
    .addOption(choiceOption('--format <format>', 'report format (ORC is not read by sseguard)', ['CSV', 'Parquet']).default('CSV'))
    .addOption(choiceOption('--versions <versions>', 'current versions only, or every version', ['current', 'all']).default('current'))
    .option('--inventory-id <id>', 'configuration id (the report folder name)', 'sseguard')
    .addOption(choiceOption('--frequency <frequency>', 'how often S3 delivers', ['daily', 'weekly']).default('daily'))
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
  sseguard inventory setup --bucket my-data --destination-bucket my-inventories --destination-prefix reports
  sseguard inventory setup --bucket my-data --destination-bucket my-inventories --format Parquet --versions all --dry-run`,
    )
    .action(async (options: { bucket: string; destinationBucket: string; destinationPrefix?: string; format: string; versions: string; inventoryId: string; frequency: string; destinationAccount?: string; dryRun: boolean; json: boolean }) => {
      const { destinationAccount, destinationPrefix, inventoryId, bucket, destinationBucket, format, versions, frequency, dryRun, json } = options;
      const { inventorySetupCommand } = await import('./inventory.ts');
      setExit(
        await inventorySetupCommand({
          bucket,
          destinationBucket,
          format,
          versions,
          frequency,
          dryRun,
          json,
          id: inventoryId,
          ...(destinationPrefix === undefined ? {} : { prefix: destinationPrefix }),
          ...(destinationAccount ? { destinationAccountId: destinationAccount } : {}),
        }),
      );
    });
  // -p/--prefix is a key prefix in every other command: here it was the destination's; kept, hidden.
  deprecatedAlias(setup, '-p, --prefix <prefix>', 'destinationPrefix', '--destination-prefix');
  deprecatedAlias(setup, '--id <id>', 'inventoryId', '--inventory-id');

  registerPlanCommand(program, setExit, bucketName);

  // The emulator's stand-in for S3's daily delivery, as a subcommand of `sseguard emulator`.
  const emulator = program.commands.find((c) => c.name() === 'emulator');
  const deliver = (emulator ?? program.command('emulator'))
    .command('deliver-inventory')
    .description("make the running emulator deliver a bucket's inventory report now (AWS delivers daily or weekly)")
    .requiredOption('-b, --bucket <name>', 'source bucket with an inventory configuration', bucketName)
    .option('--inventory-id <id>', 'only this configuration (default: every enabled one)')
    .option('--at <iso-date>', 'the report date (default now)')
    .option('--rows-per-file <n>', 'split the report into data files of this many rows')
    .option('--endpoint <url>', 'the emulator (default $AWS_ENDPOINT_URL)')
    .option('--json', 'print one JSON document', false)
    .action(async (options: { bucket: string; inventoryId?: string; at?: string; rowsPerFile?: string; endpoint?: string; json: boolean }) => {
      const at = options.at ? new Date(options.at) : undefined;
      if (at && Number.isNaN(at.getTime())) throw new CliError(`--at must be an ISO 8601 date, got ${options.at}`);
      const rowsPerFile = options.rowsPerFile ? Number(options.rowsPerFile) : undefined;
      if (rowsPerFile !== undefined && !(Number.isInteger(rowsPerFile) && rowsPerFile > 0)) throw new CliError('--rows-per-file must be a whole number above 0');
      const { deliverInventoryCommand } = await import('./deliver-inventory.ts');
      setExit(
        await deliverInventoryCommand(options.endpoint ?? process.env.AWS_ENDPOINT_URL, {
          bucket: options.bucket,
          json: options.json,
          ...(options.inventoryId ? { id: options.inventoryId } : {}),
          ...(at ? { at } : {}),
          ...(rowsPerFile ? { rowsPerFile } : {}),
        }),
      );
    });
  deprecatedAlias(deliver, '--id <id>', 'inventoryId', '--inventory-id');
}

export function registerPlanCommand(program: Command, setExit: (code: number) => void, bucketName: (value: string) => string): void {
  const plan = program
    .command('plan')
    .description("price an audit (HEAD sweep vs inventory sweep) and a fix (per object vs Batch) from the bucket's S3 Inventory")
    .requiredOption('-b, --bucket <name>', 'bucket to plan for', bucketName)
    .requiredOption('-i, --inventory <s3-url>', 'where its inventory reports are delivered: s3://<destination>[/<prefix>]')
    .option('--inventory-id <id>', 'inventory configuration id (default: the newest report of any)')
    .addOption(choiceOption('--target <mode>', 'the fix target mode', ['sse-kms', 'dsse-kms', 'sse-s3']).default('sse-kms'))
    .option('--no-bucket-key', 'price the fix without an S3 Bucket Key (one KMS call per object)')
    .option('--client-side', 'the policy looks at client-side encryption (every new or changed object needs a HEAD)', false)
    .option('--region <region>', "Region whose KMS quota paces the run (default $AWS_REGION)")
    .option('--prices <file>', 'JSON overriding any part of the price table (the shape of PRICES in shared/cost/prices.ts)')
    .option('--policy <file>', 'price the fix only for objects this policy would fix (default: every object not in --target mode)')
    .option('--json', 'print one JSON document', false)
    .addHelpText(
      'after',
      `
Prices: one dated table in shared/cost/prices.ts (us-east-1 list prices, its date and sources printed
with every plan). Override any part with --prices, e.g. {"s3":{"getHeadPer1000":0.00042},"quotas":{"kmsPerSecondByRegion":{"eu-west-3":30000}}}.
Durations: work divided by the tightest rate: half the Region's KMS request quota (others share it),
3,500 writes/s and 5,500 reads/s per prefix, over the bucket's top-level prefixes.

Example:
  sseguard plan --bucket my-data --inventory s3://my-inventories/reports --json`,
    )
    .action(async (options: PlanCommandOptions) => {
      const { planCommand } = await import('./plan.ts');
      setExit(await planCommand(options));
    });
  deprecatedAlias(plan, '--id <id>', 'inventoryId', '--inventory-id');
}
