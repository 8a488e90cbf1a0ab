// The `sseguard` command line: one more adapter over the same audit pipeline as the Lambdas.
// Exit codes (cli/vocabulary.ts): 0 done and compliant, 1 findings or failures to act on, 2 could not complete.
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { parseRegionList } from '#shared/aws/region.ts';
import { ConfigError, loadConfig } from '#shared/config.ts';
import { VERDICTS, type Verdict } from '#shared/domain/verdict.ts';
import { ENGINES, type Engine } from './commands/emulator-engines.ts';
import { FUNCTIONS, InvokeError, type FunctionName } from './commands/invoke.ts';
import { registerPostureCommands } from './commands/posture-commands.ts';
import { REPORT_FORMATS, type ReportFormat } from './commands/report-formats.ts';
import { registerInventoryCommands } from './commands/inventory-commands.ts';
import { registerEvidenceCommands } from './commands/evidence-commands.ts';
import { missingTableMessage } from './missing-table.ts';
import { isClosedOutput, tolerateClosedOutput } from './output/stream.ts';
import { CliError, EXIT, EXIT_CODES_HELP, choiceOption, errorLine } from './vocabulary.ts';

// Each command's implementation (and the SDK clients, policy parser and stores under it) is
// imported when that command runs, so that `--help` and usage errors load commander and little else.

export { EXIT };

const wholeNumber = (min: number, max: number) => (value: string) => {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
    throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
  }
  return parsed;
};

const bucketName = (value: string) => {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value)) {
    throw new InvalidArgumentError('expected an S3 bucket name (3-63 of a-z 0-9 . -)');
  }
  return value;
};

const regionList = (value: string) => {
  try {
    return parseRegionList(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^--regions /, ''));
  }
};
const accountId = (value: string) => {
  if (!/^\d{12}$/.test(value)) throw new InvalidArgumentError('expected a 12-digit AWS account id');
  return value;
};
const accountIds = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((id) => accountId(id.trim())).filter(Boolean)];
const collect = (value: string, previous: string[] = []) => [...previous, value];
const ouIds = (value: string, previous: string[] = []) => [
  ...previous,
  ...value.split(',').map((id) => {
    if (!/^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/.test(id.trim())) throw new InvalidArgumentError('expected an OU id (ou-…) or a root id (r-…)');
    return id.trim();
  }),
];

const ENVIRONMENT_HELP = `
Environment:
  AWS_REGION          Region of the table and queues, and where a key named without one (alias/NAME)
                      is looked up (required); buckets and keys are asked in their own Regions
  AWS_ENDPOINT_URL    endpoint of LocalStack or the emulator (unset for AWS)
  AWS_ENDPOINT_URL_S3, _KMS, _DYNAMODB, _SQS, _EVENTBRIDGE
                      one service's endpoint; wins over AWS_ENDPOINT_URL (as in every AWS SDK)
  SSEGUARD_CONNECT_TIMEOUT_MS, SSEGUARD_SOCKET_TIMEOUT_MS (default 3000 each),
  SSEGUARD_REQUEST_TIMEOUT_MS (60000), SSEGUARD_MAX_ATTEMPTS (3)
                      bounded time per AWS request: a silent endpoint fails in about 10 s
  AWS_PROFILE, AWS_ACCESS_KEY_ID, ...   credentials, by the AWS SDK's usual chain
  SSEGUARD_TABLE      findings table (default sseguard-findings)
  SSEGUARD_POLICY     policy file used when --policy is not given
  SSEGUARD_ACCOUNT_ID, SSEGUARD_BATCH_ROLE_ARN, SSEGUARD_BATCH_REPORT_BUCKET,
  SSEGUARD_BATCH_PREFIX (sseguard-batch), SSEGUARD_BATCH_PRIORITY (10)
                      S3 Batch Operations jobs of scan --remediate --batch and jobs
                      (SSEGUARD_ACCOUNT_ID overrides the account STS GetCallerIdentity names)

--json prints one JSON document on every command that prints data.
${EXIT_CODES_HELP}`;

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('sseguard')
    .description('Audit the server-side encryption of every S3 object, and the KMS keys behind it, against a policy.')
    .version(packageJson.version, '-V, --version', 'print the version of sseguard')
    // Commander's own errors ("error: unknown option …") start like every other error line.
    .configureOutput({ outputError: (text, write) => write(`sseguard: ${text}`) })
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', ENVIRONMENT_HELP)
    // A command's options belong to it: `evidence verify DIR --json` is verify's --json, not the
    // pack command's (commander needs this on every ancestor of a subcommand).
    .enablePositionalOptions()
    .exitOverride();

  program
    .command('scan')
    .description('audit every object in a bucket (or under a prefix), or in the buckets of many accounts, and record the findings')
    .option('-b, --bucket <name>', 'bucket to audit (required unless --accounts or --org)', bucketName)
    .option('--accounts <ids>', 'audit these AWS accounts (comma-separated ids), each through its audit role', accountIds)
    .option('--org', "audit every ACTIVE account of the AWS Organization (from the management or a delegated administrator account)", false)
    .option('--ou <id...>', 'with --org: only accounts under these OUs (at any depth)', ouIds)
    .option('--org-tag <key=value>', 'with --org: only accounts with this Organizations tag (repeatable: every key must match, one of the values given for it)', collect)
    .option('--exclude <ids>', 'with --accounts or --org: leave these accounts out', accountIds)
    .option('--role-name <name>', 'the role assumed in each account: a name, or an ARN template arn:{partition}:iam::{account}:role/NAME', 'sseguard-audit')
    .option('--external-id <id>', 'the external id the accounts\' role trust policies require')
    .option('--remediation-role-name <name>', "with --remediate and --accounts or --org: each member's opt-in remediation role (a name or an ARN template)", 'sseguard-remediation')
    .option('--buckets <glob...>', 'with --accounts or --org: only buckets matching these globs ("!glob" excludes); default every bucket the role can see')
    .option('-p, --prefix <prefix>', 'only keys starting with this prefix (with --accounts or --org: in every bucket)')
    .option('--policy <file>', 'policy file, JSON or YAML (default: $SSEGUARD_POLICY, else any SSE and no SSE-C)')
    .option('--regions <list>', "only buckets in these Regions, comma-separated (default: every Region); a bucket elsewhere is reported as skipped", regionList)
    .option('-c, --concurrency <n>', 'objects audited at once', wholeNumber(1, 512), 16)
    .option('--json', 'print every finding and the summary as one JSON document', false)
    .option('--no-record', 'do not write findings to the table')
    .addOption(new Option('--dry-run', 'print the fix the policy asks for, per object, and totals; change nothing').conflicts('remediate'))
    .option('--remediate', 'fix objects where the policy says remediate: true (each at most once per version)', false)
    .option('--all-versions', 'audit every version (ListObjectVersions); noncurrent ones are counted apart and never copied in place', false)
    .option('--allow-empty', 'exit 0 when no object is found under the bucket/prefix (default: exit 1, such a run proves nothing)', false)
    .option('--inventory <s3-url>', "audit from the bucket's newest S3 Inventory report at s3://<destination>[/<prefix>]: HeadObject only where it cannot decide")
    .option('--inventory-id <id>', 'the inventory configuration (default: the newest report of any)')
    .option('--athena-diff-table <database.table>', "with --inventory: diff a report too large to diff in memory in Athena, over this table on the configuration's hive/ folder (created if missing; --athena-workgroup, --athena-output)")
    .option('--reverify-days <n>', 'with --inventory: HeadObject every KMS-encrypted object at least every n days, spread over the sweeps (default: $SSEGUARD_REVERIFY_DAYS, else 30)', wholeNumber(1, 3650))
    .addOption(
      new Option('--metadata-table', "audit from the bucket's S3 Metadata live inventory table, queried with Athena: no HeadObject at all").conflicts(['inventory', 'allVersions']),
    )
    .option('--athena-workgroup <name>', 'Athena workgroup for --metadata-table', 'primary')
    .option('--athena-output <s3-url>', "where Athena writes the query result, s3://bucket/prefix/ (default: the workgroup's output location)")
    .option('--metadata-namespace <name>', "the table's namespace (default: b_<bucket>)")
    .option('--metadata-catalog <name>', 'the Athena catalog of the AWS managed table bucket', 's3tablescatalog/aws-s3')
    .option('--metadata-lag <minutes>', 'how far the table may lag behind the bucket: rows are evidence as of the query minus this', wholeNumber(0, 1440), 60)
    .option('--event-bus <name-or-arn>', 'put one EventBridge event per change on this bus (default: $SSEGUARD_EVENT_BUS)')
    .option('--security-hub', 'import each changed finding into Security Hub (default: $SSEGUARD_SECURITY_HUB=on)', false)
    .option('--batch', 'with --remediate: UpdateObjectEncryption fixes go to S3 Batch Operations, one job per target key (copies stay per object)', false)
    .option('--batch-role <arn>', 'IAM role S3 Batch Operations assumes (default: $SSEGUARD_BATCH_ROLE_ARN)')
    .option('--batch-report-bucket <name>', 'bucket for manifests and completion reports (default: $SSEGUARD_BATCH_REPORT_BUCKET)', bucketName)
    .option('--batch-priority <n>', 'job priority, higher runs first (default: $SSEGUARD_BATCH_PRIORITY, else 10)', wholeNumber(0, 2_147_483_647))
    .addHelpText(
      'after',
      '\nWithout --remediate nothing is changed: objects the policy would fix are only counted.\n' +
        'With --inventory, objects the store holds that the report no longer lists are removed from the findings.\n' +
        'With --metadata-table, likewise for objects the table no longer lists (and not modified within --metadata-lag).\n' +
        '\nExamples:\n  sseguard scan --bucket my-bucket --prefix finance/ --policy policy.yaml --json > findings.json\n' +
        '  sseguard scan --bucket my-bucket --policy policy.yaml --dry-run\n' +
        '  sseguard scan --bucket my-bucket --inventory s3://my-inventories/reports\n' +
        '  sseguard scan --bucket my-bucket --metadata-table --athena-output s3://my-athena-results/sseguard/\n' +
        '  sseguard scan --org --ou ou-ab12-cdef3456 --exclude 111122223333 --external-id $EXTERNAL_ID\n' +
        '\nWith --accounts or --org, an account whose role cannot be assumed, is denied or times out is a\n' +
        'coverage gap named in the output and the run record, never a verdict; the exit code is then 2.',
    )
    .action(
      async (options: {
        bucket?: string;
        accounts?: string[];
        org: boolean;
        ou?: string[];
        orgTag?: string[];
        exclude?: string[];
        roleName: string;
        externalId?: string;
        remediationRoleName: string;
        buckets?: string[];
        prefix?: string;
        policy?: string;
        regions?: string[];
        concurrency: number;
        json: boolean;
        record: boolean;
        dryRun?: boolean;
        remediate: boolean;
        inventory?: string;
        inventoryId?: string;
        reverifyDays?: number;
        athenaDiffTable?: string;
        allVersions: boolean;
        allowEmpty: boolean;
        metadataTable?: boolean;
        athenaWorkgroup: string;
        athenaOutput?: string;
        metadataNamespace?: string;
        metadataCatalog: string;
        metadataLag: number;
        batch: boolean;
        batchRole?: string;
        batchReportBucket?: string;
        batchPriority?: number;
        eventBus?: string;
        securityHub: boolean;
      }) => {
        const { accounts, org, ou, orgTag, exclude, roleName, externalId, buckets, ...single } = options;
        if (accounts || org) {
          if (single.inventory || single.metadataTable || single.batch || single.allVersions) {
            throw new ConfigError('--accounts and --org audit with HeadObject: --inventory, --metadata-table, --batch and --all-versions are for one bucket');
          }
          const { accountsScanCommand } = await import('./commands/accounts.ts');
          const chosen = [...(buckets ?? []), ...(single.bucket ? [single.bucket] : [])];
          setExit(
            await accountsScanCommand(loadConfig(), {
              ...(accounts ? { accounts } : {}),
              org,
              ...(ou ? { ous: ou } : {}),
              ...(orgTag ? { orgTags: orgTag } : {}),
              ...(exclude ? { exclude } : {}),
              roleName,
              ...(externalId ? { externalId } : {}),
              ...(chosen.length ? { buckets: chosen } : {}),
              ...(single.policy ? { policy: single.policy } : {}),
              ...(single.prefix ? { prefix: single.prefix } : {}),
              ...(single.remediate ? { remediate: true, remediationRoleName: single.remediationRoleName } : {}),
              ...(single.dryRun ? { dryRun: true } : {}),
              concurrency: single.concurrency,
              json: single.json,
              record: single.record,
            }),
          );
          return;
        }
        if (!single.bucket) throw new ConfigError('name a bucket (--bucket) or the accounts to audit (--accounts, --org)');
        if (buckets || ou || orgTag || exclude || externalId) throw new ConfigError('--buckets, --ou, --org-tag, --exclude and --external-id need --accounts or --org');
        if (single.remediationRoleName !== 'sseguard-remediation') throw new ConfigError('--remediation-role-name needs --accounts or --org (one bucket is fixed with your own credentials)');
        const { dryRun, remediate, metadataTable, athenaWorkgroup, athenaOutput, metadataNamespace, metadataCatalog, metadataLag, batch, batchRole, batchReportBucket, batchPriority, ...rest } =
          { ...single, bucket: single.bucket };
        const remediation = dryRun ? 'dry-run' : remediate ? 'fix' : 'report';
        if (rest.reverifyDays !== undefined && !rest.inventory) throw new ConfigError('--reverify-days needs --inventory');
        const { athenaDiffTable, ...scanRest } = rest;
        let athenaDiff: { table: { database: string; table: string }; workGroup: string; outputLocation?: string } | undefined;
        if (athenaDiffTable !== undefined) {
          const parts = /^([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)$/.exec(athenaDiffTable);
          if (!rest.inventory || !parts) throw new ConfigError('--athena-diff-table needs --inventory and a name database.table (letters, digits, _)');
          athenaDiff = { table: { database: parts[1]!, table: parts[2]! }, workGroup: athenaWorkgroup, ...(athenaOutput ? { outputLocation: athenaOutput } : {}) };
        }
        const { scanCommand } = await import('./commands/scan.ts');
        const metadata = metadataTable
          ? {
              metadataTable: {
                workGroup: athenaWorkgroup,
                table: { catalog: metadataCatalog, ...(metadataNamespace ? { namespace: metadataNamespace } : {}) },
                lagMs: metadataLag * 60_000,
                ...(athenaOutput ? { outputLocation: athenaOutput } : {}),
              },
            }
          : {};
        const batchFlags = {
          ...(batchRole ? { roleArn: batchRole } : {}),
          ...(batchReportBucket ? { reportBucket: batchReportBucket } : {}),
          ...(batchPriority === undefined ? {} : { priority: batchPriority }),
        };
        if (!batch && Object.keys(batchFlags).length > 0) throw new ConfigError('--batch-role, --batch-report-bucket and --batch-priority need --batch');
        // Batch jobs run in an account: SSEGUARD_ACCOUNT_ID, else the one STS says the credentials are of.
        const config = batch && remediation === 'fix' ? await (await import('#shared/accounts/caller-account.ts')).withAccountId(loadConfig()) : loadConfig();
        setExit(await scanCommand(config, { ...scanRest, ...metadata, remediation, ...(batch ? { batch: batchFlags } : {}), ...(athenaDiff ? { athenaDiff } : {}) }));
      },
    );

  program
    .command('accounts')
    .description('what a run over many accounts would cover: per account, whether its role can be assumed, its Regions and buckets')
    .option('--accounts <ids>', 'these AWS accounts (comma-separated ids)', accountIds)
    .option('--org', 'every ACTIVE account of the AWS Organization', false)
    .option('--ou <id...>', 'with --org: only accounts under these OUs', ouIds)
    .option('--org-tag <key=value>', 'with --org: only accounts with this Organizations tag (repeatable: every key must match, one of the values given for it)', collect)
    .option('--exclude <ids>', 'leave these accounts out', accountIds)
    .option('--role-name <name>', 'the role assumed in each account (a name or an ARN template)', 'sseguard-audit')
    .option('--external-id <id>', 'the external id the role trust policies require')
    .option('--buckets <glob...>', 'only buckets matching these globs')
    .option('--json', 'print one JSON document', false)
    .addHelpText('after', '\nExit codes: 0 every account can be covered, 2 some cannot (or an error).')
    .action(async (options: { accounts?: string[]; org: boolean; ou?: string[]; orgTag?: string[]; exclude?: string[]; roleName: string; externalId?: string; buckets?: string[]; json: boolean }) => {
      const { accountsCommand } = await import('./commands/accounts.ts');
      const { ou, orgTag, ...rest } = options;
      setExit(await accountsCommand(loadConfig(), { ...rest, ...(ou ? { ous: ou } : {}), ...(orgTag ? { orgTags: orgTag } : {}) }));
    });

  program
    .command('jobs')
    .description('track the S3 Batch Operations jobs `scan --batch` created and fold each finished one into the findings')
    .option('-b, --bucket <name>', 'only the jobs of this bucket', bucketName)
    .option('--wait', 'poll (with backoff) until every job has finished and is folded', false)
    .option('--timeout <seconds>', 'with --wait: give up after this long', wholeNumber(1, 86_400), 3600)
    .option('--policy <file>', 'policy for jobs that do not record theirs (default: $SSEGUARD_POLICY); a job records the policy it was created under and is folded under it')
    .option('--json', 'print the jobs as one JSON document', false)
    .addHelpText('after', '\nExit codes: 0 every task succeeded, 1 some tasks failed, 2 jobs still running or not yet folded (or an error).')
    .action(async (options: { bucket?: string; wait: boolean; timeout: number; policy?: string; json: boolean }) => {
      const { jobsCommand } = await import('./commands/jobs.ts');
      setExit(await jobsCommand(loadConfig(), options));
    });

  program
    .command('report')
    .description('print the findings the table holds')
    .addOption(choiceOption('-f, --format <format>', 'output format', REPORT_FORMATS).default('table'))
    .option('--json', 'print one JSON document (the same as --format json)', false)
    .option('-b, --bucket <name>', 'only this bucket', bucketName)
    .addOption(choiceOption('--verdict <verdict>', 'only this verdict', VERDICTS))
    .option('--kms-key <key>', 'only objects encrypted under this KMS key: ARN, alias/NAME, alias ARN or key id (resolved as the policy resolves it)')
    .option('--account <id>', 'only buckets of this AWS account', accountId)
    .option('--region <region>', 'only buckets in this Region')
    .option('--remediations', 'the change log instead of the findings: every change a fix made (object, version, before → after, fix kind), oldest first', false)
    .option('--out <path>', 'with --format ocsf-parquet: a FILE.parquet, or a folder written in the Security Lake layout (region=/accountId=/eventDay=)')
    .action(async (options: { format: ReportFormat; json: boolean; bucket?: string; verdict?: Verdict; kmsKey?: string; account?: string; region?: string; remediations: boolean; out?: string }, command: Command) => {
      const { json, ...rest } = options;
      if (json && command.getOptionValueSource('format') === 'cli' && options.format !== 'json') {
        throw new CliError(`--json and --format ${options.format} ask for two formats: give one`);
      }
      const { reportCommand } = await import('./commands/report.ts');
      setExit(await reportCommand(loadConfig(), { ...rest, ...(json ? { format: 'json' as const } : {}) }));
    });

  program
    .command('init')
    .description('create the findings table on the configured endpoint (safe to run again)')
    .option('--json', 'print one JSON document', false)
    .action(async (options: { json: boolean }) => {
      const { initCommand } = await import('./commands/init.ts');
      setExit(await initCommand(loadConfig(), undefined, options));
    });

  program
    .command('serve')
    .description('serve the report API and dashboard on localhost (bearer token from $SSEGUARD_API_TOKEN)')
    .option('--port <port>', 'port', wholeNumber(0, 65535), 3000)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--no-auth', 'serve without authentication (refused unless given explicitly)')
    .action(async (options: { port: number; host: string; auth: boolean }) => {
      const { serveCommand } = await import('./commands/serve.ts');
      setExit(await serveCommand(loadConfig(), options));
    });

  registerPostureCommands(program, setExit, bucketName);
  registerEvidenceCommands(program, setExit, bucketName);

  program
    .command('invoke')
    .description('run a Lambda handler in this process with an event file, against the configured endpoint')
    .addArgument(new Argument('<function>', 'the function').choices(Object.keys(FUNCTIONS)))
    .requiredOption('-e, --event <file>', 'event JSON, as Lambda would pass it (samples in test/events/)')
    .option('--timeout <seconds>', 'the time the handler believes it has', wholeNumber(1, 900), 900)
    .option('--json', "print the handler's return value as JSON (default: a summary)", false)
    .addHelpText(
      'after',
      '\nThe audit worker takes an SQS event; a bare S3 notification, EventBridge event or sweep page is\n' +
        'wrapped as one SQS message. Exit code 1 when the worker reports failed messages (batch item failures).\n' +
        'With a real queue configured, a failed message is redelivered and, after its last delivery, dead-lettered.\n' +
        '\nExamples:\n  sseguard invoke audit-worker --event test/events/s3-notification.json\n' +
        '  sseguard invoke key-events --event test/events/kms-disable-key.json',
    )
    .action(async (name: FunctionName, options: { event: string; timeout: number; json: boolean }) => {
      const { invokeCommand } = await import('./commands/invoke.ts');
      setExit(await invokeCommand(name, options));
    });

  program
    .command('emulator')
    .description("run a local AWS emulator until Ctrl-C: moto server with sseguard's fidelity patches (default), LocalStack (no Docker, as root; DynamoDB on moto) or ministack")
    .option('--port <port>', 'port on 127.0.0.1', wholeNumber(1, 65535), 4566)
    .addOption(choiceOption('--engine <engine>', 'which emulator', ENGINES).default('moto'))
    .action(async (options: { port: number; engine: Engine }) => {
      const { emulatorCommand } = await import('./commands/emulator.ts');
      setExit(await emulatorCommand(options));
    });

  program
    .command('demo')
    .description('start the emulator, seed keys and objects in every state, scan, report, stop')
    .option('--port <port>', 'emulator port (default: a free one)', wholeNumber(1, 65535))
    .action(async (options: { port?: number }) => {
      const { demoCommand } = await import('./commands/demo.ts');
      setExit(await demoCommand(options));
    });

  program
    .command('member-template')
    .description('write the CloudFormation template for member accounts (service-managed StackSet): audit role, opt-in remediation role, event forwarding')
    .option('--central-account <id>', "the central stage's account (alone: its sseguard-* roles are trusted)")
    .option('--central-role-arn <arn...>', "the central functions' role ARNs, the only principals the roles trust", [])
    .option('--external-id <id>', 'require this sts:ExternalId when the central functions assume the roles')
    .addOption(new Option('--variant <variant>', 'evidence tier: head (HeadObject, needs s3:GetObject) or inventory (no object read)').choices(['head', 'inventory']).default('head'))
    .option('--remediation', 'add the remediation role and the S3 Batch Operations role', false)
    .requiredOption('--event-bus-arn <arn>', "the central bus (the central stage's eventBus output)")
    .option('--report-destination <bucket[/prefix]>', 'inventory reports (and Athena results) in the member account: read there')
    .option('--metadata-table', 'S3 Metadata table reads and Athena queries (with --variant inventory)', false)
    .option('--security-hub', "the audit role may import the account's own findings into Security Hub (central SSEGUARD_SECURITY_HUB=on)", false)
    .option('--out <file>', 'write here (.yaml/.yml: YAML, else JSON); default: JSON on stdout')
    .addHelpText('after', '\nStackSets never deploy to the management account: give it its own stack of the same template.')
    .action(async (options: { centralAccount?: string; centralRoleArn: string[]; externalId?: string; variant: 'head' | 'inventory'; remediation: boolean; eventBusArn: string; reportDestination?: string; metadataTable: boolean; securityHub: boolean; out?: string }) => {
      const { memberTemplateCommand } = await import('./commands/member-template.ts');
      const { centralRoleArn, centralAccount, externalId, reportDestination, out, ...rest } = options;
      setExit(
        memberTemplateCommand({
          ...rest,
          centralRoleArns: centralRoleArn,
          ...(centralAccount ? { centralAccount } : {}),
          ...(externalId ? { externalId } : {}),
          ...(reportDestination ? { reportDestination } : {}),
          ...(out ? { out } : {}),
        }),
      );
    });

  // After `emulator`: it adds `emulator deliver-inventory` beside `inventory setup` and `plan`.
  registerInventoryCommands(program, setExit, bucketName, { accountIds, ouIds, regionList });

  // Every command's --help ends with the same exit codes (jobs says what they mean for jobs).
  const everyCommand = (command: Command): Command[] => command.commands.flatMap((sub) => [sub, ...everyCommand(sub)]);
  for (const command of everyCommand(program)) if (command.name() !== 'jobs') command.addHelpText('after', `\n${EXIT_CODES_HELP}`);
  return program;
}

/** The endpoints in use, for an error that says which one did not answer. */
async function configuredEndpoints(): Promise<string | undefined> {
  const { endpointsFromEnvironment } = await import('#shared/aws/clients.ts');
  const distinct = [...new Set(Object.values(endpointsFromEnvironment()))];
  return distinct.length > 0 ? distinct.join(', ') : undefined;
}

/** A missing table, said as what to do (only when the configuration itself loads). */
function missingTable(error: unknown): string | undefined {
  try {
    return missingTableMessage(error, loadConfig());
  } catch {
    return undefined;
  }
}

async function describeError(error: unknown): Promise<string> {
  // Loaded already by the command that threw; imported here so that a start does not load them.
  const [{ PolicyError }, { BucketListingError }, { unreachableEndpoint }] = await Promise.all([
    import('#shared/domain/policy.ts'),
    import('#shared/inspect/object-inspector.ts'),
    import('#shared/aws/errors.ts'),
  ]);
  // A dead or unreachable endpoint is one line naming it, whichever call met it first.
  const endpoints = await configuredEndpoints();
  for (let cause: unknown = error; cause; cause = (cause as { cause?: unknown }).cause) {
    const unreachable = unreachableEndpoint(cause, endpoints);
    if (unreachable) return unreachable;
  }
  if (error instanceof ConfigError || error instanceof BucketListingError || error instanceof CliError) return error.message;
  const tableMissing = missingTable(error);
  if (tableMissing) return tableMissing;
  if (error instanceof PolicyError || error instanceof InvokeError) return error.message;
  const e = error as Error;
  if (e?.name === 'CredentialsProviderError') return `no AWS credentials found: ${e.message}`;
  return e?.message ?? String(error);
}

export async function main(argv: string[]): Promise<number> {
  tolerateClosedOutput(process.stdout);
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed.
      return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    }
    // `sseguard report | head`: the reader has what it wanted; a normal end, no message.
    if (isClosedOutput(error)) return EXIT.ok;
    console.error(errorLine(await describeError(error)));
    if (process.env.SSEGUARD_DEBUG) console.error(error);
    return error instanceof CliError ? error.exitCode : EXIT.error;
  }
}
