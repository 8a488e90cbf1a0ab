// Configuration from the environment: the AWS SDK's own names (AWS_REGION, AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE>, the credential chain) plus sseguard's. Validated once at start, with a
// one-line error per problem.
import { z } from 'zod';
import { DEFAULT_TIMEOUTS, SERVICES, endpointsFromEnvironment, type Endpoints, type Timeouts } from './aws/clients.ts';
import { DEFAULT_TABLE_NAME } from './findings/table.ts';
import { regionProblem } from './aws/region.ts';
import { parseOrgTags, type OrgTagFilter } from './domain/org-tags.ts';

/** The Organization the deployed sweep covers (SSEGUARD_ORGANIZATION_ID and its filters, as `scan --org` takes them). */
export interface OrganizationSweepSettings {
  /** `o-…`: the sweep refuses to run against another Organization's accounts. */
  id: string;
  /** SSEGUARD_ORG_OUS (`--ou`): only accounts under these OUs or roots, at any depth. */
  ous: string[];
  /** SSEGUARD_ORG_EXCLUDE (`--exclude`). */
  exclude: string[];
  /** SSEGUARD_ORG_TAGS (`--org-tag`), KEY=VALUE,KEY=VALUE: every key, one of its values. */
  tags: OrgTagFilter;
  /** SSEGUARD_ORG_BUCKETS (`--buckets`): bucket globs in member accounts; default every bucket the role can see. */
  buckets: string[];
}

export interface Config {
  region: string;
  /** AWS_ENDPOINT_URL: every service's endpoint unless a service-specific one is set. */
  endpoint?: string;
  /** Each service's endpoint as the SDK resolves it (service-specific first); absent: AWS. */
  endpoints: Endpoints;
  timeouts: Timeouts;
  /** How long a fix of a zero-byte object may hold its lock before another process may take over. */
  fixLeaseBaseMs: number;
  table: string;
  policyPath?: string;
  /** The audit queue: a URL, or a queue name looked up with GetQueueUrl. */
  queue: string;
  /** Where messages that cannot be parsed go; by default the audit queue's name + "-dlq". */
  deadLetterQueue: string;
  idempotencyTable: string;
  /** How many deliveries the audit queue allows before SQS moves a message to the DLQ. */
  maxReceiveCount: number;
  /** Buckets the scheduled sweep covers: comma-separated globs; "!glob" excludes. */
  sweepBuckets: string[];
  /** A new sweep run starts this long after the previous one started. */
  sweepIntervalHours: number;
  /** The sweep covers buckets in these Regions only (SSEGUARD_SWEEP_REGIONS); empty: every Region. */
  sweepRegions: string[];
  /** The sweep audits every version (ListObjectVersions), not only current objects. */
  sweepAllVersions: boolean;
  /** S3 Batch Operations (scan --batch, jobs): the account the jobs run in, the role, where manifests and reports go. */
  batch: { accountId?: string; roleArn?: string; reportBucket?: string; prefix: string; priority: number };
  /** 'auto': a bucket with a usable S3 Inventory report is swept from it (shared/sweep/inventory-or-listing.ts). */
  sweepInventory: 'off' | 'auto';
  /** A report older than this is not used: the bucket is listed instead. Default: the sweep interval. */
  sweepInventoryMaxAgeHours: number;
  /** How much of an inventory data file one worker message audits (SSEGUARD_INVENTORY_ROWS_PER_MESSAGE, SSEGUARD_INVENTORY_SECONDS_PER_MESSAGE); keys one reconciliation message holds (SSEGUARD_RECONCILE_KEYS_PER_MESSAGE). */
  inventoryWork?: { rowsPerMessage?: number; msPerMessage?: number; keysPerReconcileMessage?: number };
  /** Every KMS-encrypted object is HEADed again at least this often by the inventory sweeps (SSEGUARD_REVERIFY_DAYS, default 30). */
  reverifyDays: number;
  /**
   * With SSEGUARD_ATHENA_DIFF_TABLE: the Lambda sweep diffs each report with the bucket's last verified
   * one in Athena and audits only the diff's rows (shared/audit/inventory-diff-sweep.ts); a report
   * swept in full asks Athena for each key range's keys (inventory-file-audit.ts).
   */
  athenaDiff?: AthenaDiffSettings;
  /** The role assumed in a member account an event or message names: a name or an ARN template. */
  memberRoleName: string;
  memberExternalId?: string;
  /** With SSEGUARD_ORGANIZATION_ID: the sweep fans out over the Organization's accounts (shared/sweep/org-sweep.ts). */
  organization?: OrganizationSweepSettings;
  /** Where changes are pushed (shared/delivery/): SSEGUARD_EVENT_BUS (name or ARN), SSEGUARD_SECURITY_HUB=on. */
  integrations?: { eventBus?: string; securityHub: boolean };
}

export interface AthenaDiffSettings {
  /** The external table over the reports' hive/ folder (created if missing): SSEGUARD_ATHENA_DIFF_TABLE, DATABASE.TABLE. */
  table: { database: string; table: string };
  /** SSEGUARD_ATHENA_WORKGROUP (default primary). */
  workGroup: string;
  /** s3://bucket/prefix/ where Athena writes results (SSEGUARD_ATHENA_OUTPUT). */
  outputLocation: string;
  /** A diff query still running this long after it started is stopped and the report fanned out in full (SSEGUARD_ATHENA_DEADLINE_SECONDS, default 1800). */
  deadlineMs: number;
  /** Delay of each poll message (SSEGUARD_ATHENA_POLL_SECONDS, default 15; at most SQS's 900). */
  pollSeconds: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** An optional positive whole-number setting. */
const wholeNumberSetting = (name: string) =>
  z.coerce.number({ error: `${name} is not a number` }).int(`${name} must be a whole number`).positive(`${name} must be more than 0`).optional();

const milliseconds = (name: string, fallback: number) =>
  z.coerce
    .number({ error: `${name} is not a number of milliseconds` })
    .int(`${name} must be a whole number of milliseconds`)
    .min(100, `${name} must be at least 100 (ms)`)
    .max(3_600_000, `${name} must be at most 3600000 (ms)`)
    .default(fallback);
const endpointUrl = (name: string) =>
  z.url({ protocol: /^https?$/, error: `${name} is not an http(s) URL (for example: http://127.0.0.1:4566)` }).optional();

const environment = z.object({
  AWS_REGION: z
    .string({ error: 'AWS_REGION is not set (for example: export AWS_REGION=us-east-1)' })
    .superRefine((region, context) => {
      const problem = regionProblem(region);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }),
  AWS_ENDPOINT_URL: endpointUrl('AWS_ENDPOINT_URL'),
  ...Object.fromEntries(SERVICES.map((service) => [serviceVariable(service), endpointUrl(serviceVariable(service))])),
  SSEGUARD_TABLE: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'SSEGUARD_TABLE is not a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)')
    .default(DEFAULT_TABLE_NAME),
  SSEGUARD_POLICY: z.string().min(1, 'SSEGUARD_POLICY is empty: unset it or name a policy file').optional(),
  SSEGUARD_QUEUE: z
    .string()
    .regex(/^(https?:\/\/\S+|[A-Za-z0-9_-]{1,80})$/, 'SSEGUARD_QUEUE is not a queue URL or name')
    .default('sseguard-audit'),
  SSEGUARD_DLQ: z
    .string()
    .regex(/^(https?:\/\/\S+|[A-Za-z0-9_-]{1,80})$/, 'SSEGUARD_DLQ is not a queue URL or name')
    .optional(),
  SSEGUARD_IDEMPOTENCY_TABLE: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'SSEGUARD_IDEMPOTENCY_TABLE is not a DynamoDB table name')
    .default('sseguard-idempotency'),
  SSEGUARD_MAX_RECEIVE_COUNT: z.coerce
    .number({ error: 'SSEGUARD_MAX_RECEIVE_COUNT is not a number' })
    .int()
    .min(1, 'SSEGUARD_MAX_RECEIVE_COUNT must be at least 1')
    .max(1000, 'SSEGUARD_MAX_RECEIVE_COUNT must be at most 1000')
    .default(5),
  SSEGUARD_SWEEP_BUCKETS: z.string().default(''),
  SSEGUARD_SWEEP_REGIONS: z
    .string()
    .default('')
    .superRefine((list, context) => {
      for (const region of list.split(',').map((r) => r.trim()).filter(Boolean)) {
        const problem = regionProblem(region, 'SSEGUARD_SWEEP_REGIONS');
        if (problem) context.addIssue({ code: 'custom', message: problem });
      }
    }),
  SSEGUARD_SWEEP_ALL_VERSIONS: z
    .enum(['true', 'false'], { error: 'SSEGUARD_SWEEP_ALL_VERSIONS is true or false' })
    .default('false'),
  SSEGUARD_SWEEP_INVENTORY: z.enum(['off', 'auto'], { error: 'SSEGUARD_SWEEP_INVENTORY is off or auto' }).default('off'),
  SSEGUARD_SWEEP_INVENTORY_MAX_AGE_HOURS: z.coerce
    .number({ error: 'SSEGUARD_SWEEP_INVENTORY_MAX_AGE_HOURS is not a number' })
    .positive('SSEGUARD_SWEEP_INVENTORY_MAX_AGE_HOURS must be more than 0')
    .optional(),
  SSEGUARD_INVENTORY_ROWS_PER_MESSAGE: wholeNumberSetting('SSEGUARD_INVENTORY_ROWS_PER_MESSAGE'),
  SSEGUARD_INVENTORY_SECONDS_PER_MESSAGE: wholeNumberSetting('SSEGUARD_INVENTORY_SECONDS_PER_MESSAGE'),
  SSEGUARD_RECONCILE_KEYS_PER_MESSAGE: wholeNumberSetting('SSEGUARD_RECONCILE_KEYS_PER_MESSAGE'),
  SSEGUARD_ATHENA_DIFF_TABLE: z
    .string()
    .regex(/^[a-z0-9_]{1,255}\.[a-z0-9_]{1,255}$/, 'SSEGUARD_ATHENA_DIFF_TABLE is not DATABASE.TABLE (lower-case letters, digits and _: Glue names)')
    .optional(),
  SSEGUARD_ATHENA_WORKGROUP: z.string().regex(/^[a-zA-Z0-9._-]{1,128}$/, 'SSEGUARD_ATHENA_WORKGROUP is not an Athena workgroup name').default('primary'),
  SSEGUARD_ATHENA_OUTPUT: z
    .string()
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/\S*)?$/, 'SSEGUARD_ATHENA_OUTPUT is not an s3://bucket/prefix/ location')
    .optional(),
  SSEGUARD_ATHENA_DEADLINE_SECONDS: wholeNumberSetting('SSEGUARD_ATHENA_DEADLINE_SECONDS'),
  SSEGUARD_ATHENA_POLL_SECONDS: z.coerce
    .number({ error: 'SSEGUARD_ATHENA_POLL_SECONDS is not a number' })
    .int('SSEGUARD_ATHENA_POLL_SECONDS must be a whole number')
    .min(0, 'SSEGUARD_ATHENA_POLL_SECONDS cannot be negative')
    .max(900, 'SSEGUARD_ATHENA_POLL_SECONDS must be at most 900 (SQS DelaySeconds)')
    .default(15),
  SSEGUARD_REVERIFY_DAYS: z.coerce
    .number({ error: 'SSEGUARD_REVERIFY_DAYS is not a number' })
    .int('SSEGUARD_REVERIFY_DAYS is a whole number of days')
    .min(1, 'SSEGUARD_REVERIFY_DAYS must be at least 1')
    .max(3650, 'SSEGUARD_REVERIFY_DAYS must be at most 3650')
    .default(30),
  SSEGUARD_CONNECT_TIMEOUT_MS: milliseconds('SSEGUARD_CONNECT_TIMEOUT_MS', DEFAULT_TIMEOUTS.connectMs),
  SSEGUARD_SOCKET_TIMEOUT_MS: milliseconds('SSEGUARD_SOCKET_TIMEOUT_MS', DEFAULT_TIMEOUTS.socketIdleMs),
  SSEGUARD_REQUEST_TIMEOUT_MS: milliseconds('SSEGUARD_REQUEST_TIMEOUT_MS', DEFAULT_TIMEOUTS.requestMs),
  SSEGUARD_FIX_LEASE_MS: milliseconds('SSEGUARD_FIX_LEASE_MS', 60_000),
  SSEGUARD_MAX_ATTEMPTS: z.coerce
    .number({ error: 'SSEGUARD_MAX_ATTEMPTS is not a number' })
    .int('SSEGUARD_MAX_ATTEMPTS must be a whole number')
    .min(1, 'SSEGUARD_MAX_ATTEMPTS must be at least 1')
    .max(20, 'SSEGUARD_MAX_ATTEMPTS must be at most 20')
    .default(DEFAULT_TIMEOUTS.maxAttempts),
  SSEGUARD_ACCOUNT_ID: z.string().regex(/^\d{12}$/, 'SSEGUARD_ACCOUNT_ID is not a 12-digit AWS account id').optional(),
  SSEGUARD_BATCH_ROLE_ARN: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/, 'SSEGUARD_BATCH_ROLE_ARN is not an IAM role ARN').optional(),
  SSEGUARD_BATCH_REPORT_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'SSEGUARD_BATCH_REPORT_BUCKET is not an S3 bucket name').optional(),
  SSEGUARD_BATCH_PREFIX: z.string().regex(/^[^\s]{1,200}$/, 'SSEGUARD_BATCH_PREFIX is not a key prefix').default('sseguard-batch'),
  SSEGUARD_BATCH_PRIORITY: z.coerce
    .number({ error: 'SSEGUARD_BATCH_PRIORITY is not a number' })
    .int('SSEGUARD_BATCH_PRIORITY must be a whole number')
    .min(0, 'SSEGUARD_BATCH_PRIORITY cannot be negative')
    .max(2_147_483_647, 'SSEGUARD_BATCH_PRIORITY must be at most 2147483647')
    .default(10),
  SSEGUARD_MEMBER_ROLE_NAME: z
    .string()
    .regex(/^([\w+=,.@-]{1,64}|arn:[^\s]+:role\/[\w+=,.@/-]+)$/, 'SSEGUARD_MEMBER_ROLE_NAME is not a role name or an ARN template (arn:{partition}:iam::{account}:role/NAME)')
    .default('sseguard-audit'),
  SSEGUARD_MEMBER_EXTERNAL_ID: z.string().regex(/^[\w+=,.@:/-]{2,1224}$/, 'SSEGUARD_MEMBER_EXTERNAL_ID is not an external id').optional(),
  SSEGUARD_ORGANIZATION_ID: z.string().regex(/^o-[a-z0-9]{10,32}$/, 'SSEGUARD_ORGANIZATION_ID is not an Organization id (o-…)').optional(),
  SSEGUARD_ORG_OUS: z
    .string()
    .default('')
    .refine((list) => list.split(',').map((id) => id.trim()).filter(Boolean).every((id) => /^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/.test(id)), 'SSEGUARD_ORG_OUS holds something that is not an OU id (ou-…) or a root id (r-…)'),
  SSEGUARD_ORG_EXCLUDE: z
    .string()
    .default('')
    .refine((list) => list.split(',').map((id) => id.trim()).filter(Boolean).every((id) => /^\d{12}$/.test(id)), 'SSEGUARD_ORG_EXCLUDE holds something that is not a 12-digit account id'),
  SSEGUARD_ORG_TAGS: z
    .string()
    .default('')
    .superRefine((list, context) => {
      try {
        parseOrgTags(list.split(',').map((pair) => pair.trim()).filter(Boolean));
      } catch (error) {
        context.addIssue({ code: 'custom', message: `SSEGUARD_ORG_TAGS: ${(error as Error).message}` });
      }
    }),
  SSEGUARD_ORG_BUCKETS: z.string().default(''),
  SSEGUARD_EVENT_BUS: z
    .string()
    .regex(/^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[\w.\-/]{1,256}|[\w.\-/]{1,256})$/, 'SSEGUARD_EVENT_BUS is not an event bus name or ARN')
    .optional(),
  SSEGUARD_SECURITY_HUB: z.enum(['on', 'off'], { error: 'SSEGUARD_SECURITY_HUB is on or off' }).default('off'),
  SSEGUARD_SWEEP_INTERVAL_HOURS: z.coerce
    .number({ error: 'SSEGUARD_SWEEP_INTERVAL_HOURS is not a number' })
    .min(0, 'SSEGUARD_SWEEP_INTERVAL_HOURS cannot be negative')
    .default(24),
});

const splitList = (list: string): string[] => [...new Set(list.split(',').map((item) => item.trim()).filter(Boolean))];

function serviceVariable(service: string): string {
  return `AWS_ENDPOINT_URL_${service.toUpperCase()}`;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const blankToUndefined = (value: string | undefined) => (value === '' ? undefined : value);
  const parsed = environment.safeParse({
    AWS_REGION: blankToUndefined(env.AWS_REGION) ?? blankToUndefined(env.AWS_DEFAULT_REGION),
    AWS_ENDPOINT_URL: blankToUndefined(env.AWS_ENDPOINT_URL),
    SSEGUARD_TABLE: blankToUndefined(env.SSEGUARD_TABLE),
    SSEGUARD_POLICY: env.SSEGUARD_POLICY,
    SSEGUARD_QUEUE: blankToUndefined(env.SSEGUARD_QUEUE),
    SSEGUARD_DLQ: blankToUndefined(env.SSEGUARD_DLQ),
    SSEGUARD_IDEMPOTENCY_TABLE: blankToUndefined(env.SSEGUARD_IDEMPOTENCY_TABLE),
    SSEGUARD_MAX_RECEIVE_COUNT: blankToUndefined(env.SSEGUARD_MAX_RECEIVE_COUNT),
    SSEGUARD_SWEEP_BUCKETS: env.SSEGUARD_SWEEP_BUCKETS,
    SSEGUARD_SWEEP_REGIONS: env.SSEGUARD_SWEEP_REGIONS,
    SSEGUARD_SWEEP_ALL_VERSIONS: blankToUndefined(env.SSEGUARD_SWEEP_ALL_VERSIONS),
    SSEGUARD_SWEEP_INTERVAL_HOURS: blankToUndefined(env.SSEGUARD_SWEEP_INTERVAL_HOURS),
    SSEGUARD_SWEEP_INVENTORY: blankToUndefined(env.SSEGUARD_SWEEP_INVENTORY),
    SSEGUARD_SWEEP_INVENTORY_MAX_AGE_HOURS: blankToUndefined(env.SSEGUARD_SWEEP_INVENTORY_MAX_AGE_HOURS),
    SSEGUARD_INVENTORY_ROWS_PER_MESSAGE: blankToUndefined(env.SSEGUARD_INVENTORY_ROWS_PER_MESSAGE),
    SSEGUARD_INVENTORY_SECONDS_PER_MESSAGE: blankToUndefined(env.SSEGUARD_INVENTORY_SECONDS_PER_MESSAGE),
    SSEGUARD_RECONCILE_KEYS_PER_MESSAGE: blankToUndefined(env.SSEGUARD_RECONCILE_KEYS_PER_MESSAGE),
    SSEGUARD_REVERIFY_DAYS: blankToUndefined(env.SSEGUARD_REVERIFY_DAYS),
    SSEGUARD_ATHENA_DIFF_TABLE: blankToUndefined(env.SSEGUARD_ATHENA_DIFF_TABLE),
    SSEGUARD_ATHENA_WORKGROUP: blankToUndefined(env.SSEGUARD_ATHENA_WORKGROUP),
    SSEGUARD_ATHENA_OUTPUT: blankToUndefined(env.SSEGUARD_ATHENA_OUTPUT),
    SSEGUARD_ATHENA_DEADLINE_SECONDS: blankToUndefined(env.SSEGUARD_ATHENA_DEADLINE_SECONDS),
    SSEGUARD_ATHENA_POLL_SECONDS: blankToUndefined(env.SSEGUARD_ATHENA_POLL_SECONDS),
    SSEGUARD_CONNECT_TIMEOUT_MS: blankToUndefined(env.SSEGUARD_CONNECT_TIMEOUT_MS),
    SSEGUARD_SOCKET_TIMEOUT_MS: blankToUndefined(env.SSEGUARD_SOCKET_TIMEOUT_MS),
    SSEGUARD_REQUEST_TIMEOUT_MS: blankToUndefined(env.SSEGUARD_REQUEST_TIMEOUT_MS),
    SSEGUARD_MAX_ATTEMPTS: blankToUndefined(env.SSEGUARD_MAX_ATTEMPTS),
    SSEGUARD_FIX_LEASE_MS: blankToUndefined(env.SSEGUARD_FIX_LEASE_MS),
    SSEGUARD_ACCOUNT_ID: blankToUndefined(env.SSEGUARD_ACCOUNT_ID),
    SSEGUARD_BATCH_ROLE_ARN: blankToUndefined(env.SSEGUARD_BATCH_ROLE_ARN),
    SSEGUARD_BATCH_REPORT_BUCKET: blankToUndefined(env.SSEGUARD_BATCH_REPORT_BUCKET),
    SSEGUARD_BATCH_PREFIX: blankToUndefined(env.SSEGUARD_BATCH_PREFIX),
    SSEGUARD_BATCH_PRIORITY: blankToUndefined(env.SSEGUARD_BATCH_PRIORITY),
    SSEGUARD_MEMBER_ROLE_NAME: blankToUndefined(env.SSEGUARD_MEMBER_ROLE_NAME),
    SSEGUARD_MEMBER_EXTERNAL_ID: blankToUndefined(env.SSEGUARD_MEMBER_EXTERNAL_ID),
    SSEGUARD_EVENT_BUS: blankToUndefined(env.SSEGUARD_EVENT_BUS),
    SSEGUARD_ORGANIZATION_ID: blankToUndefined(env.SSEGUARD_ORGANIZATION_ID),
    SSEGUARD_ORG_OUS: env.SSEGUARD_ORG_OUS,
    SSEGUARD_ORG_EXCLUDE: env.SSEGUARD_ORG_EXCLUDE,
    SSEGUARD_ORG_TAGS: env.SSEGUARD_ORG_TAGS,
    SSEGUARD_ORG_BUCKETS: env.SSEGUARD_ORG_BUCKETS,
    SSEGUARD_SECURITY_HUB: blankToUndefined(env.SSEGUARD_SECURITY_HUB),
    ...Object.fromEntries(SERVICES.map((service) => [serviceVariable(service), blankToUndefined(env[serviceVariable(service)])])),
  });
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message).join('; '));
  if (parsed.data.SSEGUARD_ATHENA_DIFF_TABLE && !parsed.data.SSEGUARD_ATHENA_OUTPUT) {
    throw new ConfigError('SSEGUARD_ATHENA_DIFF_TABLE is set without SSEGUARD_ATHENA_OUTPUT: the workers read the diff from the result file Athena writes there (s3://bucket/prefix/)');
  }
  const athenaTable = parsed.data.SSEGUARD_ATHENA_DIFF_TABLE?.split('.');
  const { AWS_REGION, AWS_ENDPOINT_URL, SSEGUARD_TABLE, SSEGUARD_POLICY, SSEGUARD_QUEUE, SSEGUARD_DLQ } = parsed.data;
  return {
    region: AWS_REGION,
    table: SSEGUARD_TABLE,
    queue: SSEGUARD_QUEUE,
    deadLetterQueue: SSEGUARD_DLQ ?? `${SSEGUARD_QUEUE}-dlq`,
    idempotencyTable: parsed.data.SSEGUARD_IDEMPOTENCY_TABLE,
    maxReceiveCount: parsed.data.SSEGUARD_MAX_RECEIVE_COUNT,
    sweepBuckets: parsed.data.SSEGUARD_SWEEP_BUCKETS.split(',').map((glob) => glob.trim()).filter(Boolean),
    sweepRegions: [...new Set(parsed.data.SSEGUARD_SWEEP_REGIONS.split(',').map((r) => r.trim()).filter(Boolean))],
    sweepIntervalHours: parsed.data.SSEGUARD_SWEEP_INTERVAL_HOURS,
    sweepAllVersions: parsed.data.SSEGUARD_SWEEP_ALL_VERSIONS === 'true',
    sweepInventory: parsed.data.SSEGUARD_SWEEP_INVENTORY,
    sweepInventoryMaxAgeHours: parsed.data.SSEGUARD_SWEEP_INVENTORY_MAX_AGE_HOURS ?? parsed.data.SSEGUARD_SWEEP_INTERVAL_HOURS,
    reverifyDays: parsed.data.SSEGUARD_REVERIFY_DAYS,
    ...(athenaTable
      ? {
          athenaDiff: {
            table: { database: athenaTable[0]!, table: athenaTable[1]! },
            workGroup: parsed.data.SSEGUARD_ATHENA_WORKGROUP,
            outputLocation: parsed.data.SSEGUARD_ATHENA_OUTPUT!.replace(/\/?$/, '/'),
            deadlineMs: (parsed.data.SSEGUARD_ATHENA_DEADLINE_SECONDS ?? 1800) * 1000,
            pollSeconds: parsed.data.SSEGUARD_ATHENA_POLL_SECONDS,
          },
        }
      : {}),
    endpoints: endpointsFromEnvironment(env),
    ...(parsed.data.SSEGUARD_INVENTORY_ROWS_PER_MESSAGE || parsed.data.SSEGUARD_INVENTORY_SECONDS_PER_MESSAGE || parsed.data.SSEGUARD_RECONCILE_KEYS_PER_MESSAGE
      ? {
          inventoryWork: {
            ...(parsed.data.SSEGUARD_INVENTORY_ROWS_PER_MESSAGE ? { rowsPerMessage: parsed.data.SSEGUARD_INVENTORY_ROWS_PER_MESSAGE } : {}),
            ...(parsed.data.SSEGUARD_INVENTORY_SECONDS_PER_MESSAGE ? { msPerMessage: parsed.data.SSEGUARD_INVENTORY_SECONDS_PER_MESSAGE * 1000 } : {}),
            ...(parsed.data.SSEGUARD_RECONCILE_KEYS_PER_MESSAGE ? { keysPerReconcileMessage: parsed.data.SSEGUARD_RECONCILE_KEYS_PER_MESSAGE } : {}),
          },
        }
      : {}),
    memberRoleName: parsed.data.SSEGUARD_MEMBER_ROLE_NAME,
    ...(parsed.data.SSEGUARD_MEMBER_EXTERNAL_ID ? { memberExternalId: parsed.data.SSEGUARD_MEMBER_EXTERNAL_ID } : {}),
    ...(parsed.data.SSEGUARD_ORGANIZATION_ID
      ? {
          organization: {
            id: parsed.data.SSEGUARD_ORGANIZATION_ID,
            ous: splitList(parsed.data.SSEGUARD_ORG_OUS),
            exclude: splitList(parsed.data.SSEGUARD_ORG_EXCLUDE),
            tags: parseOrgTags(splitList(parsed.data.SSEGUARD_ORG_TAGS)),
            buckets: splitList(parsed.data.SSEGUARD_ORG_BUCKETS),
          },
        }
      : {}),
    fixLeaseBaseMs: parsed.data.SSEGUARD_FIX_LEASE_MS,
    batch: {
      prefix: parsed.data.SSEGUARD_BATCH_PREFIX.replace(/\/+$/, ''),
      priority: parsed.data.SSEGUARD_BATCH_PRIORITY,
      ...(parsed.data.SSEGUARD_ACCOUNT_ID ? { accountId: parsed.data.SSEGUARD_ACCOUNT_ID } : {}),
      ...(parsed.data.SSEGUARD_BATCH_ROLE_ARN ? { roleArn: parsed.data.SSEGUARD_BATCH_ROLE_ARN } : {}),
      ...(parsed.data.SSEGUARD_BATCH_REPORT_BUCKET ? { reportBucket: parsed.data.SSEGUARD_BATCH_REPORT_BUCKET } : {}),
    },
    timeouts: {
      connectMs: parsed.data.SSEGUARD_CONNECT_TIMEOUT_MS,
      socketIdleMs: parsed.data.SSEGUARD_SOCKET_TIMEOUT_MS,
      requestMs: parsed.data.SSEGUARD_REQUEST_TIMEOUT_MS,
      maxAttempts: parsed.data.SSEGUARD_MAX_ATTEMPTS,
    },
    // Only when something is pushed: a configuration that pushes nowhere looks as it always did.
    ...(parsed.data.SSEGUARD_SECURITY_HUB === 'on' || parsed.data.SSEGUARD_EVENT_BUS
      ? {
          integrations: {
            securityHub: parsed.data.SSEGUARD_SECURITY_HUB === 'on',
            ...(parsed.data.SSEGUARD_EVENT_BUS ? { eventBus: parsed.data.SSEGUARD_EVENT_BUS } : {}),
          },
        }
      : {}),
    ...(AWS_ENDPOINT_URL ? { endpoint: AWS_ENDPOINT_URL } : {}),
    ...(SSEGUARD_POLICY ? { policyPath: SSEGUARD_POLICY } : {}),
  };
}
