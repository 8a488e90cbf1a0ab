// Registers `sseguard inventory setup`, `sseguard plan` and `sseguard emulator deliver-inventory`.
// Commander only: each command's implementation (and the SDK under it) is imported when it runs.
import { InvalidArgumentError, type Command } from 'commander';
import { AUDIT_FIELDS } from '#shared/inventory/setup.ts';
import { CliError, choiceOption, deprecatedAlias } from '../vocabulary.ts';
import type { PlanCommandOptions } from './plan.ts';

/** The option parsers main.ts shares with `plan --accounts/--org` (one reading of each flag). */
export interface AccountFlagParsers {
  accountIds: (value: string, previous?: string[]) => string[];
  ouIds: (value: string, previous?: string[]) => string[];
  regionList: (value: string) => string[];
}

const wholeNumber = (min: number, max: number) => (value: string) => {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
  return parsed;
};

export function registerInventoryCommands(program: Command, setExit: (code: number) => void, bucketName: (value: string) => string, parsers: AccountFlagParsers): void {
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

  registerPlanCommand(program, setExit, bucketName, parsers);

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

export function registerPlanCommand(program: Command, setExit: (code: number) => void, bucketName: (value: string) => string, parsers: AccountFlagParsers): void {
  const plan = program
    .command('plan')
    .description("price an audit (HEAD sweep vs inventory sweep) and a fix (per object vs Batch) from the bucket's S3 Inventory, or of every bucket of many accounts")
    .option('-b, --bucket <name>', 'bucket to plan for (required unless --accounts or --org)', bucketName)
    .option('-i, --inventory <s3-url>', 'where its inventory reports are delivered: s3://<destination>[/<prefix>] (required with --bucket)')
    .option('--inventory-id <id>', 'inventory configuration id (default: the newest report of any)')
    .option('--accounts <ids>', 'price these AWS accounts (comma-separated ids), each through its audit role', parsers.accountIds)
    .option('--org', 'price every ACTIVE account of the AWS Organization', false)
    .option('--ou <id...>', 'with --org: only accounts under these OUs (at any depth)', parsers.ouIds)
    .option('--exclude <ids>', 'with --accounts or --org: leave these accounts out', parsers.accountIds)
    .option('--role-name <name>', 'the role assumed in each account: a name, or an ARN template arn:{partition}:iam::{account}:role/NAME', 'sseguard-audit')
    .option('--external-id <id>', "the external id the accounts' role trust policies require")
    .option('--buckets <glob...>', 'with --accounts or --org: only buckets matching these globs ("!glob" excludes)')
    .option('--regions <list>', 'with --accounts or --org: only buckets in these Regions, comma-separated', parsers.regionList)
    .addOption(choiceOption('--target <mode>', 'the fix target mode', ['sse-kms', 'dsse-kms', 'sse-s3']).default('sse-kms'))
    .option('--no-bucket-key', 'price the fix without an S3 Bucket Key (one KMS call per object)')
    .option('--client-side', 'the policy looks at client-side encryption (every new or changed object needs a HEAD)', false)
    .option('--region <region>', "Region whose KMS quota paces the run (default $AWS_REGION; with --accounts/--org each bucket's own)")
    .option('--prices <file>', 'JSON overriding any part of the price table (the shape of PRICES in shared/plan/prices.ts)')
    .option('--policy <file>', 'price the fix only for objects this policy would fix (default: every object not in --target mode)')
    .option('--reverify-days <n>', 'price the rolling re-check: every KMS object HEADed every n days (default: $SSEGUARD_REVERIFY_DAYS, else 30)', wholeNumber(1, 3650))
    .option('--sweep-interval-hours <n>', 'hours between inventory sweeps, for the re-check per sweep (default 24: a daily report)', wholeNumber(1, 24 * 365))
    .option('--json', 'print one JSON document', false)
    .addHelpText(
      'after',
      `
Prices: one dated table in shared/cost/prices.ts (us-east-1 list prices, its date and sources printed
with every plan). Override any part with --prices, e.g. {"s3":{"getHeadPer1000":0.00042},"quotas":{"kmsPerSecondByRegion":{"eu-west-3":30000}}}.
Durations: work divided by the tightest rate: half the Region's KMS request quota (others share it),
3,500 writes/s and 5,500 reads/s per prefix, over the bucket's top-level prefixes.

With --accounts or --org each bucket is counted from its own newest S3 Inventory report (its
configuration names the destination), else by listing it (modes unknown: its fix is not priced).
An account whose role cannot be assumed is a named gap: exit 2.

Examples:
  sseguard plan --bucket my-data --inventory s3://my-inventories/reports --json
  sseguard plan --org --ou ou-ab12-cdef3456 --external-id $EXTERNAL_ID`,
    )
    .action(
      async (
        options: Omit<PlanCommandOptions, 'bucket' | 'inventory'> & {
          bucket?: string;
          inventory?: string;
          accounts?: string[];
          org: boolean;
          ou?: string[];
          exclude?: string[];
          roleName: string;
          externalId?: string;
          buckets?: string[];
          regions?: string[];
        },
      ) => {
        const { accounts, org, ou, exclude, roleName, externalId, buckets, regions, bucket, inventory, ...single } = options;
        if (accounts || org) {
          if (inventory || single.inventoryId || single.region) throw new CliError('--inventory, --inventory-id and --region are for one bucket: with --accounts or --org each bucket is read from its own inventory configuration, in its own Region');
          const [{ planAccountsCommand }, { loadConfig }] = await Promise.all([import('./plan-accounts.ts'), import('#shared/config.ts')]);
          const chosen = [...(buckets ?? []), ...(bucket ? [bucket] : [])];
          setExit(
            await planAccountsCommand(loadConfig(), {
              ...(accounts ? { accounts } : {}),
              org,
              ...(ou ? { ous: ou } : {}),
              ...(exclude ? { exclude } : {}),
              roleName,
              ...(externalId ? { externalId } : {}),
              ...(chosen.length ? { buckets: chosen } : {}),
              ...(regions ? { regions } : {}),
              target: single.target,
              bucketKey: single.bucketKey,
              clientSide: single.clientSide,
              ...(single.prices ? { prices: single.prices } : {}),
              ...(single.policy ? { policy: single.policy } : {}),
              json: single.json,
            }),
          );
          return;
        }
        if (!bucket || !inventory) throw new CliError('name a bucket and its inventory (--bucket B --inventory s3://D/P), or the accounts to plan for (--accounts, --org)');
        if (buckets || ou || exclude || externalId || regions) throw new CliError('--buckets, --ou, --exclude, --external-id and --regions need --accounts or --org');
        const { planCommand } = await import('./plan.ts');
        setExit(await planCommand({ ...single, bucket, inventory }));
      },
    );
  deprecatedAlias(plan, '--id <id>', 'inventoryId', '--inventory-id');
}
