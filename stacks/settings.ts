// The settings that decide how sseguard behaves once deployed, as plain values: the stacks turn
// them into SST components and vitest asserts them, without the SST runtime (this file imports
// nothing from SST's globals). One table definition serves the code, `sseguard init` and the stack.
// The object actions are one list for the central worker and the member template's remediation role.
import { MEMBER_OBJECT_EVENT_PATTERN, MEMBER_ROLE_NAMES, OBJECT_FIX, OBJECT_READ } from '../shared/deploy/member-template.ts';
import { KEY_STATE_CALLS } from '../shared/events/key-events.ts';
import { findingsTableDefinition } from '../shared/findings/table.ts';
import { parseOrgTags } from '../shared/domain/org-tags.ts';
import { AUDIT_FIELDS, inventoryConfiguration } from '../shared/inventory/setup.ts';

export const APP_NAME = 'sseguard';
export const RUNTIME = 'nodejs22.x';
export const ARCHITECTURE = 'arm64';
export const isProduction = (stage: string): boolean => stage === 'production';

// ── Functions ─────────────────────────────────────────────────────────────────────────────────
export type FunctionName = 'auditWorker' | 'sweep' | 'keyEvents' | 'reportApi' | 'evidencePack' | 'outboxDelivery';

export interface FunctionSettings {
  handler: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** Caps concurrent executions (and so the load on S3, KMS and DynamoDB). */
  reservedConcurrency: number;
  description: string;
}

export const FUNCTIONS: Record<FunctionName, FunctionSettings> = {
  auditWorker: {
    handler: 'functions/audit-worker.handler',
    // A batch of ten messages, a sweep page each (up to 1000 keys), with fixes: minutes, not seconds.
    timeoutSeconds: 300,
    memoryMb: 1024,
    // Twenty workers × ten messages: well under S3's per-prefix and KMS's per-account request rates.
    reservedConcurrency: 20,
    description: 'Audits, fixes and records the objects named by audit-queue messages',
  },
  sweep: {
    handler: 'functions/sweep.handler',
    // The sweep stops a minute before its timeout and resumes from its checkpoint on the next tick.
    timeoutSeconds: 900,
    memoryMb: 512,
    // One run at a time: two concurrent ticks would race on the same checkpoint.
    reservedConcurrency: 1,
    description: 'Lists the monitored buckets page by page into the audit queue, resuming from its checkpoint',
  },
  keyEvents: {
    handler: 'functions/key-events.handler',
    timeoutSeconds: 900,
    memoryMb: 1024,
    reservedConcurrency: 2,
    description: 'Re-evaluates every object under a KMS key whose state changed',
  },
  reportApi: {
    handler: 'functions/report-api.handler',
    // API Gateway HTTP APIs give up after 30 seconds.
    timeoutSeconds: 29,
    memoryMb: 1024,
    reservedConcurrency: 10,
    description: 'Report API and dashboard (bearer token)',
  },
  evidencePack: {
    handler: 'functions/evidence-pack.handler',
    // One Scan of the whole table, the pack written to /tmp, then uploaded: minutes at fleet scale.
    timeoutSeconds: 900,
    memoryMb: 2048,
    // One pack at a time: two runs of one month would both build it (only one is sealed).
    reservedConcurrency: 1,
    description: 'Writes the monthly signed evidence pack to the evidence bucket (conditional writes, Object Lock welcome)',
  },
  // Only with SSEGUARD_EVENT_BUS or SSEGUARD_SECURITY_HUB=on (stacks/functions.ts).
  outboxDelivery: {
    handler: 'functions/outbox-delivery.handler',
    // A run stops 30 s before its timeout and releases the outbox lease; the next tick goes on.
    timeoutSeconds: 300,
    memoryMb: 512,
    // One deliverer: a second would only find the outbox lease held (shared/findings/outbox-lease.ts).
    reservedConcurrency: 1,
    description: 'Sends the changes waiting in the outbox to EventBridge and Security Hub',
  },
};

// ── Scheduled evidence pack ───────────────────────────────────────────────────────────────────
export const EVIDENCE_PACK = {
  /** 00:15 UTC on the 1st: the pack as of the end of the month before (shared/evidence/scheduled.ts). */
  schedule: 'cron(15 0 1 * ? *)',
  /** Lambda's /tmp for the pack before upload (≈ 3.2 GB per million findings; up to 10240 MB). */
  ephemeralStorageMb: 10_240,
} as const;

/** SSEGUARD_EVIDENCE_BUCKET (bucket[/prefix]), SSEGUARD_EVIDENCE_SIGNING_KEY (a key ARN), SSEGUARD_EVIDENCE_SCHEDULE. */
export interface EvidencePackSettings {
  bucket: string;
  prefix: string;
  /** The ECC_NIST_P256 SIGN_VERIFY key that signs each pack; absent: packs are written unsigned (and say so). */
  signingKeyArn?: string;
  schedule: string;
}

// ── Outbox delivery ───────────────────────────────────────────────────────────────────────────
export const OUTBOX_DELIVERY = {
  /** A change recorded by the worker, the sweep or key events reaches its destinations within about a minute. */
  schedule: 'rate(1 minute)',
} as const;

// ── Audit queue ───────────────────────────────────────────────────────────────────────────────
export const AUDIT_QUEUE = {
  /** AWS: at least six times the function's timeout, so a batch is never delivered twice in flight. */
  visibilityTimeoutSeconds: 6 * FUNCTIONS.auditWorker.timeoutSeconds,
  /** Deliveries before SQS moves a message to the DLQ; the worker reads the same number. */
  maxReceiveCount: 5,
  batchSize: 10,
  batchWindowSeconds: 5,
  /** The worker reports failures per message (Powertools BatchProcessor). */
  partialBatchResponses: true,
} as const;

export const DEAD_LETTER_QUEUE = {
  /** The longest SQS keeps a message: two weeks to look at what failed. */
  retentionSeconds: 14 * 24 * 3600,
} as const;

// ── Sweep ─────────────────────────────────────────────────────────────────────────────────────
export const SWEEP = {
  /** A tick resumes the run in progress, or starts one when the interval has passed. */
  schedule: 'rate(15 minutes)',
  intervalHours: 24,
  /**
   * With SSEGUARD_INVENTORY_DESTINATION: the oldest report the sweep still uses. Reports are daily,
   * and S3 delivers each some hours after its scan time (AWS: the first within 48 hours), so a
   * day's report is older than the 24 h interval by the time a sweep reaches it.
   */
  inventoryMaxAgeHours: 36,
} as const;

// ── S3 Inventory ──────────────────────────────────────────────────────────────────────────────
export interface InventorySettings {
  /** An existing bucket S3 delivers the reports into (its policy must let S3 write: README). */
  destinationBucket: string;
  /** Reports land under <prefix>/<source bucket>/sseguard/. */
  prefix: string;
  /** CSV: the Lambda functions read CSV reports only (their bundles carry no Parquet reader). */
  format: 'CSV';
}

/**
 * The inventory configuration put on each monitored bucket: shared/inventory/setup.ts's (the one
 * `sseguard inventory setup` puts), in the Pulumi resource's terms (aws.s3.Inventory): daily,
 * current versions, every field the audit reads (AUDIT_FIELDS), no filter, so the report lists the
 * whole bucket and the sweep can stand on it.
 */
export function bucketInventory(bucket: string, inventory: InventorySettings) {
  const configuration = inventoryConfiguration({ bucket, destinationBucket: inventory.destinationBucket, prefix: inventory.prefix, format: inventory.format });
  const destination = configuration.Destination!.S3BucketDestination!;
  return {
    name: configuration.Id!,
    enabled: configuration.IsEnabled!,
    includedObjectVersions: configuration.IncludedObjectVersions!,
    schedule: { frequency: configuration.Schedule!.Frequency! },
    optionalFields: [...(configuration.OptionalFields ?? [])],
    destination: { bucket: { format: destination.Format!, bucketArn: destination.Bucket!, prefix: destination.Prefix! } },
  };
}
export { AUDIT_FIELDS as INVENTORY_FIELDS };

// ── Tables ────────────────────────────────────────────────────────────────────────────────────
export interface DynamoSettings {
  fields: Record<string, 'string' | 'number' | 'binary'>;
  primaryIndex: { hashKey: string; rangeKey?: string };
  globalIndexes?: Record<string, { hashKey: string; rangeKey?: string; projection: 'all' | 'keys-only' }>;
  ttl?: string;
  pointInTimeRecovery: boolean;
}

const dynamoType = { S: 'string', N: 'number', B: 'binary' } as const;

/** shared/findings/table.ts's definition (the one `sseguard init` creates) in SST's terms. */
export function findingsTable(): DynamoSettings {
  const definition = findingsTableDefinition('unused');
  const keyOf = (schema: { AttributeName?: string; KeyType?: string }[] | undefined) => {
    const hashKey = schema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
    const rangeKey = schema?.find((k) => k.KeyType === 'RANGE')?.AttributeName;
    if (!hashKey) throw new Error('findings table: key schema without a HASH key');
    return { hashKey, ...(rangeKey ? { rangeKey } : {}) };
  };
  return {
    fields: Object.fromEntries((definition.AttributeDefinitions ?? []).map((a) => [a.AttributeName!, dynamoType[a.AttributeType!]])),
    primaryIndex: keyOf(definition.KeySchema),
    globalIndexes: Object.fromEntries(
      (definition.GlobalSecondaryIndexes ?? []).map((index) => [
        index.IndexName!,
        { ...keyOf(index.KeySchema), projection: index.Projection?.ProjectionType === 'KEYS_ONLY' ? ('keys-only' as const) : ('all' as const) },
      ]),
    ),
    // The history is the audit trail: it is kept, so no TTL on this table.
    pointInTimeRecovery: true,
  };
}

/** Powertools idempotency's table, as shared/findings/dynamodb-store.ts ensureIdempotencyTable makes it. */
export const IDEMPOTENCY_TABLE: DynamoSettings = {
  fields: { id: 'string' },
  primaryIndex: { hashKey: 'id' },
  ttl: 'expiration',
  // Records expire after a week; losing them only allows a fix to be re-attempted (conditionally).
  pointInTimeRecovery: false,
};

// ── Events ────────────────────────────────────────────────────────────────────────────────────
/** CloudTrail's record of the KMS calls that change whether a key can decrypt (needs a trail). */
export const KEY_EVENT_PATTERN = {
  source: ['aws.kms'],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: { eventSource: ['kms.amazonaws.com'], eventName: [...KEY_STATE_CALLS] },
};

/** S3's own EventBridge events for buckets the app does not create (EventBridge notifications on). */
export function objectCreatedPattern(bucketNames: readonly string[]) {
  return {
    source: ['aws.s3'],
    'detail-type': ['Object Created'],
    detail: { bucket: { name: [...bucketNames] } },
  };
}

/** Event types the app's own buckets notify the audit queue of. */
export const BUCKET_NOTIFICATION_EVENTS = ['s3:ObjectCreated:*'] as const;

// ── Organization ──────────────────────────────────────────────────────────────────────────────
export interface OrganizationSettings {
  /** `o-…`: the bus admits PutEvents from this Organization only; roles are assumed in it only. */
  id: string;
  /** The read-only role every member account has (shared/deploy/member-template.ts). */
  auditRoleName: string;
  /** The opt-in role the worker fixes with, where the member template created it. */
  remediationRoleName: string;
  /**
   * What the scheduled sweep covers (as `scan --org` takes it): SSEGUARD_ORG_OUS (`--ou`),
   * SSEGUARD_ORG_EXCLUDE (`--exclude`), SSEGUARD_ORG_TAGS (`--org-tag`, KEY=VALUE,…),
   * SSEGUARD_ORG_BUCKETS (`--buckets`); each passed to the functions as it is.
   */
  sweep: { ous: string[]; exclude: string[]; tags: string[]; buckets: string[] };
}

const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** SSEGUARD_ORGANIZATION_ID, SSEGUARD_MEMBER_ROLE_NAME (default sseguard-audit), SSEGUARD_MEMBER_REMEDIATION_ROLE_NAME (sseguard-remediation). */
function organizationSettings(env: Record<string, string | undefined>, problems: string[]): OrganizationSettings | undefined {
  const id = env.SSEGUARD_ORGANIZATION_ID?.trim();
  if (!id) return undefined;
  const auditRoleName = env.SSEGUARD_MEMBER_ROLE_NAME?.trim() || MEMBER_ROLE_NAMES.audit;
  const remediationRoleName = env.SSEGUARD_MEMBER_REMEDIATION_ROLE_NAME?.trim() || MEMBER_ROLE_NAMES.remediation;
  if (!ORGANIZATION_ID.test(id)) problems.push(`SSEGUARD_ORGANIZATION_ID: "${id}" is not an Organization id (o-…)`);
  for (const [name, value] of [['SSEGUARD_MEMBER_ROLE_NAME', auditRoleName], ['SSEGUARD_MEMBER_REMEDIATION_ROLE_NAME', remediationRoleName]]) {
    if (!ROLE_NAME.test(value!)) problems.push(`${name}: "${value}" is not an IAM role name`);
  }
  const sweep = { ous: list(env.SSEGUARD_ORG_OUS), exclude: list(env.SSEGUARD_ORG_EXCLUDE), tags: list(env.SSEGUARD_ORG_TAGS), buckets: list(env.SSEGUARD_ORG_BUCKETS) };
  problems.push(
    ...sweep.ous.filter((ou) => !/^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/.test(ou)).map((ou) => `SSEGUARD_ORG_OUS: "${ou}" is not an OU id (ou-…) or a root id (r-…)`),
    ...sweep.exclude.filter((id) => !/^\d{12}$/.test(id)).map((id) => `SSEGUARD_ORG_EXCLUDE: "${id}" is not a 12-digit account id`),
  );
  try {
    parseOrgTags(sweep.tags);
  } catch (error) {
    problems.push(`SSEGUARD_ORG_TAGS: ${(error as Error).message}`);
  }
  return { id, auditRoleName, remediationRoleName, sweep };
}

/**
 * The member roles in every account: `arn:<partition>:iam::*:role/<name>` (IAM has no Organization-wide ARN; the condition keeps it in the Organization).
 * `organizationsArn` names the Organization's roots and OUs (the sweep lists accounts under them) and its accounts (their tags):
 * `arn:<partition>:organizations::*:<resource>` (the management account's id stands in the ARN; any one, as long as the Organization is this).
 */
export function memberRoleScope<R>(stage: StageSettings, iamArn: (resource: string) => R, organizationsArn?: (resource: string) => R): Pick<IamScope<R>, 'organization'> {
  const org = stage.organization;
  if (!org) return {};
  return {
    organization: {
      id: org.id,
      auditRoles: [iamArn(`role/${org.auditRoleName}`)],
      remediationRoles: [iamArn(`role/${org.remediationRoleName}`)],
      ...(organizationsArn
        ? { parents: [organizationsArn(`root/${org.id}/*`), organizationsArn(`ou/${org.id}/*`)], accounts: [organizationsArn(`account/${org.id}/*`)] }
        : {}),
    },
  };
}

/** The central bus's name; member templates name it by ARN (the stage's `eventBus` output). */
export const centralBusName = (stage: string): string => `${APP_NAME}-${stage}-central`;

/** Member accounts' S3 events arriving on the central bus, to the audit queue (as the member rule forwards them). */
export const CENTRAL_OBJECT_EVENT_PATTERN = MEMBER_OBJECT_EVENT_PATTERN;

/** The central bus's resource policy, as aws.iam.getPolicyDocument statements: PutEvents from the Organization only. */
export function centralBusPolicyStatements<R>(busArn: R, organizationId: string) {
  return [
    {
      sid: 'OrganizationPutEvents',
      actions: ['events:PutEvents'],
      resources: [busArn],
      principals: [{ type: 'AWS', identifiers: ['*'] }],
      conditions: [{ test: 'StringEquals', variable: 'aws:PrincipalOrgID', values: [organizationId] }],
    },
  ];
}

// ── Per stage ─────────────────────────────────────────────────────────────────────────────────
export interface StageSettings {
  removal: 'retain' | 'remove';
  /** Powertools: POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE. */
  powertools: { serviceName: string; logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'; metricsNamespace: string };
  /** Logical names of buckets the app creates and monitors through S3 notifications. */
  createdBuckets: string[];
  /** Names of existing buckets monitored through EventBridge "Object Created" events. */
  existingBuckets: string[];
  /** KMS keys remediation may encrypt with (the policy's targets): key ARNs. */
  targetKeyArns: string[];
  /** KMS keys the auditor may describe and S3 may decrypt from when fixing; default: the account's. */
  auditKeyArns?: string[];
  /** A policy file on the deploying machine, copied into each function; none: the default policy. */
  policyFile?: string;
  /** S3 Inventory on every monitored bucket, and the sweep standing on its reports. */
  inventory?: InventorySettings;
  /** An AWS Organization audited from this stage: the central bus, and member roles to assume. */
  organization?: OrganizationSettings;
  /** A signed evidence pack each month into this bucket (SSEGUARD_EVIDENCE_BUCKET); absent: no scheduled pack. */
  evidencePack?: EvidencePackSettings;
  /** Where changes are pushed (SSEGUARD_EVENT_BUS: a bus name or ARN; SSEGUARD_SECURITY_HUB=on). */
  integrations?: { eventBus?: string; securityHub: boolean };
  /** With SSEGUARD_INVENTORY_DESTINATION and SSEGUARD_ATHENA_DIFF_TABLE: the worker sweeps each report from its diff in Athena. */
  athenaDiff?: AthenaDiffStageSettings;
}

export interface AthenaDiffStageSettings {
  /** The Glue database and table over the reports' hive/ folders (created by the worker if missing). */
  database: string;
  table: string;
  workGroup: string;
  /** Where Athena writes the diff's result (SSEGUARD_ATHENA_OUTPUT, s3://bucket/prefix/). */
  outputBucket: string;
  outputPrefix: string;
}

const list = (value: string | undefined): string[] => (value ?? '').split(',').map((item) => item.trim()).filter(Boolean);

const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const LOGICAL_NAME = /^[A-Z][A-Za-z0-9]*$/;
const EVENT_BUS = /^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[A-Za-z0-9._\-/]{1,256}$/;

/**
 * Read at deploy time from the deploying shell: SSEGUARD_CREATE_BUCKETS (logical names, default
 * "Data"), SSEGUARD_EXISTING_BUCKETS, SSEGUARD_TARGET_KEY_ARNS, SSEGUARD_AUDIT_KEY_ARNS,
 * SSEGUARD_POLICY_FILE, SSEGUARD_LOG_LEVEL, SSEGUARD_INVENTORY_DESTINATION (bucket[/prefix]),
 * SSEGUARD_ORGANIZATION_ID, SSEGUARD_MEMBER_ROLE_NAME, SSEGUARD_MEMBER_REMEDIATION_ROLE_NAME.
 */
export function stageSettings(stage: string, env: Record<string, string | undefined> = {}): StageSettings {
  const production = isProduction(stage);
  const createdBuckets = env.SSEGUARD_CREATE_BUCKETS === undefined ? ['Data'] : list(env.SSEGUARD_CREATE_BUCKETS);
  const existingBuckets = list(env.SSEGUARD_EXISTING_BUCKETS);
  const targetKeyArns = list(env.SSEGUARD_TARGET_KEY_ARNS);
  const auditKeyArns = list(env.SSEGUARD_AUDIT_KEY_ARNS);
  const problems = [
    ...createdBuckets.filter((n) => !LOGICAL_NAME.test(n)).map((n) => `SSEGUARD_CREATE_BUCKETS: "${n}" is not a logical name (PascalCase)`),
    ...existingBuckets.filter((n) => !BUCKET_NAME.test(n)).map((n) => `SSEGUARD_EXISTING_BUCKETS: "${n}" is not a bucket name`),
    ...targetKeyArns.filter((a) => !KEY_ARN.test(a)).map((a) => `SSEGUARD_TARGET_KEY_ARNS: "${a}" is not a KMS key ARN (aliases cannot scope IAM)`),
    ...auditKeyArns.filter((a) => !/^arn:aws[a-z-]*:kms:[a-z0-9*-]+:(\d{12}|\*):key\/[A-Za-z0-9*-]+$/.test(a)).map((a) => `SSEGUARD_AUDIT_KEY_ARNS: "${a}" is not a KMS key ARN pattern`),
  ];
  const organization = organizationSettings(env, problems);
  const eventBus = env.SSEGUARD_EVENT_BUS?.trim();
  const securityHubSetting = env.SSEGUARD_SECURITY_HUB?.trim().toLowerCase();
  if (securityHubSetting && !['on', 'off'].includes(securityHubSetting)) problems.push(`SSEGUARD_SECURITY_HUB: "${env.SSEGUARD_SECURITY_HUB}" is not on or off`);
  if (eventBus && !EVENT_BUS.test(eventBus)) problems.push(`SSEGUARD_EVENT_BUS: "${eventBus}" is not an event bus name or ARN`);
  const securityHub = securityHubSetting === 'on';
  if (createdBuckets.length + existingBuckets.length === 0 && !organization) problems.push('no bucket to monitor: set SSEGUARD_CREATE_BUCKETS, SSEGUARD_EXISTING_BUCKETS or SSEGUARD_ORGANIZATION_ID');
  let inventory: InventorySettings | undefined;
  if (env.SSEGUARD_INVENTORY_DESTINATION) {
    const [destinationBucket = '', ...rest] = env.SSEGUARD_INVENTORY_DESTINATION.replace(/^s3:\/\//, '').split('/');
    const prefix = rest.join('/').replace(/^\/+|\/+$/g, '') || 'inventory';
    if (!BUCKET_NAME.test(destinationBucket)) problems.push(`SSEGUARD_INVENTORY_DESTINATION: "${destinationBucket}" is not a bucket name (bucket[/prefix])`);
    if (existingBuckets.includes(destinationBucket)) problems.push(`SSEGUARD_INVENTORY_DESTINATION: "${destinationBucket}" is a monitored bucket: reports delivered into it would list themselves`);
    inventory = { destinationBucket, prefix, format: 'CSV' };
  }
  let evidencePack: EvidencePackSettings | undefined;
  if (env.SSEGUARD_EVIDENCE_BUCKET) {
    const [bucket = '', ...rest] = env.SSEGUARD_EVIDENCE_BUCKET.trim().replace(/^s3:\/\//, '').split('/');
    const prefix = rest.join('/').replace(/^\/+|\/+$/g, '') || 'sseguard-evidence';
    if (!BUCKET_NAME.test(bucket)) problems.push(`SSEGUARD_EVIDENCE_BUCKET: "${bucket}" is not a bucket name (bucket[/prefix])`);
    if (existingBuckets.includes(bucket)) problems.push(`SSEGUARD_EVIDENCE_BUCKET: "${bucket}" is a monitored bucket: keep evidence apart from what it is evidence about`);
    const signingKeyArn = env.SSEGUARD_EVIDENCE_SIGNING_KEY?.trim() || undefined;
    if (signingKeyArn && !KEY_ARN.test(signingKeyArn)) problems.push(`SSEGUARD_EVIDENCE_SIGNING_KEY: "${signingKeyArn}" is not a KMS key ARN (kms:Sign is granted on that key only)`);
    const schedule = env.SSEGUARD_EVIDENCE_SCHEDULE?.trim() || EVIDENCE_PACK.schedule;
    if (!/^(cron|rate)\(.+\)$/.test(schedule)) problems.push(`SSEGUARD_EVIDENCE_SCHEDULE: "${schedule}" is not an EventBridge schedule expression (cron(…) or rate(…))`);
    evidencePack = { bucket, prefix, ...(signingKeyArn ? { signingKeyArn } : {}), schedule };
  } else if (env.SSEGUARD_EVIDENCE_SIGNING_KEY) {
    problems.push('SSEGUARD_EVIDENCE_SIGNING_KEY is set without SSEGUARD_EVIDENCE_BUCKET: the scheduled pack needs a bucket to go to');
  }
  const athenaDiff = athenaDiffSettings(env, inventory, problems);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const logLevel = (env.SSEGUARD_LOG_LEVEL ?? (production ? 'INFO' : 'DEBUG')).toUpperCase();
  if (!['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(logLevel)) throw new Error(`SSEGUARD_LOG_LEVEL: "${logLevel}" is not DEBUG, INFO, WARN or ERROR`);
  return {
    removal: production ? 'retain' : 'remove',
    powertools: {
      serviceName: APP_NAME,
      logLevel: logLevel as StageSettings['powertools']['logLevel'],
      metricsNamespace: production ? APP_NAME : `${APP_NAME}-${stage}`,
    },
    createdBuckets,
    existingBuckets,
    targetKeyArns,
    ...(auditKeyArns.length > 0 ? { auditKeyArns } : {}),
    ...(env.SSEGUARD_POLICY_FILE ? { policyFile: env.SSEGUARD_POLICY_FILE } : {}),
    ...(inventory ? { inventory } : {}),
    ...(organization ? { organization } : {}),
    ...(evidencePack ? { evidencePack } : {}),
    ...(eventBus || securityHub ? { integrations: { securityHub, ...(eventBus ? { eventBus } : {}) } } : {}),
    ...(athenaDiff ? { athenaDiff } : {}),
  };
}

/** SSEGUARD_ATHENA_DIFF_TABLE (DATABASE.TABLE), SSEGUARD_ATHENA_WORKGROUP (default primary), SSEGUARD_ATHENA_OUTPUT (s3://bucket/prefix/). */
function athenaDiffSettings(env: Record<string, string | undefined>, inventory: InventorySettings | undefined, problems: string[]): AthenaDiffStageSettings | undefined {
  const tableSetting = env.SSEGUARD_ATHENA_DIFF_TABLE?.trim();
  if (!tableSetting) {
    if (env.SSEGUARD_ATHENA_OUTPUT?.trim()) problems.push('SSEGUARD_ATHENA_OUTPUT is set without SSEGUARD_ATHENA_DIFF_TABLE: it is where the diff writes its result');
    return undefined;
  }
  const [database = '', table = '', ...extra] = tableSetting.split('.');
  if (extra.length > 0 || !/^[a-z0-9_]{1,255}$/.test(database) || !/^[a-z0-9_]{1,255}$/.test(table)) problems.push(`SSEGUARD_ATHENA_DIFF_TABLE: "${tableSetting}" is not DATABASE.TABLE (lower-case letters, digits and _)`);
  if (!inventory) problems.push('SSEGUARD_ATHENA_DIFF_TABLE is set without SSEGUARD_INVENTORY_DESTINATION: the diff is of the inventory reports');
  const workGroup = env.SSEGUARD_ATHENA_WORKGROUP?.trim() || 'primary';
  if (!/^[a-zA-Z0-9._-]{1,128}$/.test(workGroup)) problems.push(`SSEGUARD_ATHENA_WORKGROUP: "${workGroup}" is not a workgroup name`);
  const output = env.SSEGUARD_ATHENA_OUTPUT?.trim() ?? '';
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(output);
  if (!match || !BUCKET_NAME.test(match[1]!)) {
    problems.push(`SSEGUARD_ATHENA_OUTPUT: "${output}" is not an s3://bucket/prefix/ location (the diff's result is written there)`);
    return undefined;
  }
  return { database, table, workGroup, outputBucket: match[1]!, outputPrefix: match[2]!.replace(/^\/+|\/+$/g, '') };
}

/** The Athena diff's output location as the functions read it: s3://bucket/prefix/. */
export const athenaOutputLocation = (diff: AthenaDiffStageSettings): string => `s3://${diff.outputBucket}/${diff.outputPrefix ? `${diff.outputPrefix}/` : ''}`;

/**
 * Where the worker's Athena statements point (nothing without SSEGUARD_ATHENA_DIFF_TABLE): the
 * workgroup; the Glue catalog, database and table (Athena creates the table and its partitions
 * with the caller's rights); the output location's objects and its bucket.
 */
export function athenaDiffScope<R>(
  stage: StageSettings,
  arns: { workGroup: (name: string) => R; glue: (resource: string) => R; s3: (resource: string) => R },
): Pick<IamScope<R>, 'athenaDiff'> {
  const diff = stage.athenaDiff;
  if (!diff) return {};
  return {
    athenaDiff: {
      workGroup: [arns.workGroup(diff.workGroup)],
      glue: [arns.glue('catalog'), arns.glue(`database/${diff.database}`), arns.glue(`table/${diff.database}/${diff.table}`)],
      outputObjects: [arns.s3(`${diff.outputBucket}/${diff.outputPrefix ? `${diff.outputPrefix}/` : ''}*`)],
      outputBucket: [arns.s3(diff.outputBucket)],
    },
  };
}

/** The scheduled pack's own settings, in its function's environment only. */
export function evidencePackEnvironment(stage: StageSettings): Record<string, string> {
  const pack = stage.evidencePack;
  if (!pack) return {};
  return { SSEGUARD_EVIDENCE_BUCKET: `${pack.bucket}/${pack.prefix}`, ...(pack.signingKeyArn ? { SSEGUARD_EVIDENCE_SIGNING_KEY: pack.signingKeyArn } : {}) };
}

/** Where the scheduled pack may write (`<bucket>/<prefix>/*`) and sign (the signing key); empty without SSEGUARD_EVIDENCE_BUCKET. */
export function evidencePackScope<R>(stage: StageSettings, s3Arn: (resource: string) => R, keyArn: (arn: string) => R): Pick<IamScope<R>, 'evidencePacks' | 'evidenceSigningKeys'> {
  const pack = stage.evidencePack;
  if (!pack) return { evidencePacks: [], evidenceSigningKeys: [] };
  return { evidencePacks: [s3Arn(`${pack.bucket}/${pack.prefix}/*`)], evidenceSigningKeys: pack.signingKeyArn ? [keyArn(pack.signingKeyArn)] : [] };
}

/** The bus's ARN: as given, or built from its name in the stage's account and Region. */
export function eventBusArn(eventBus: string, where: { partition: string; region: string; account: string }): string {
  return eventBus.startsWith('arn:') ? eventBus : `arn:${where.partition}:events:${where.region}:${where.account}:event-bus/${eventBus}`;
}

/** The account's default Security Hub product, the one BatchImportFindings imports under. */
export const securityHubProductArn = (where: { partition: string; region: string; account: string }): string =>
  `arn:${where.partition}:securityhub:${where.region}:${where.account}:product/${where.account}/default`;

/** Where the policy file lands inside each function package (Lambda runs in /var/task). */
/** Functions read the policy as JSON only (they bundle no YAML parser): the stack converts YAML at deploy time. */
export const POLICY_IN_PACKAGE = (_policyFile: string): string => 'sseguard-policy.json';

/** esbuild settings of every function bundle, the same `npm run bundle` measures (scripts/bundle.mjs). */
export const NODEJS_BUNDLE = {
  format: 'esm' as const,
  minify: true,
  // The SDK's ES modules: esbuild then keeps only the commands each function sends.
  esbuild: { mainFields: ['module', 'main'] },
  plugins: './scripts/function-plugins.mjs',
};

/** The environment each function gets besides its links (sseguard's and Powertools' names). */
export function functionEnvironment<R>(stage: StageSettings, sweepBuckets: R): Record<string, string | R> {
  return {
    POWERTOOLS_SERVICE_NAME: stage.powertools.serviceName,
    POWERTOOLS_LOG_LEVEL: stage.powertools.logLevel,
    POWERTOOLS_METRICS_NAMESPACE: stage.powertools.metricsNamespace,
    SSEGUARD_MAX_RECEIVE_COUNT: String(AUDIT_QUEUE.maxReceiveCount),
    SSEGUARD_SWEEP_BUCKETS: sweepBuckets,
    SSEGUARD_SWEEP_INTERVAL_HOURS: String(SWEEP.intervalHours),
    ...(stage.policyFile ? { SSEGUARD_POLICY: POLICY_IN_PACKAGE(stage.policyFile) } : {}),
    ...(stage.inventory ? { SSEGUARD_SWEEP_INVENTORY: 'auto', SSEGUARD_SWEEP_INVENTORY_MAX_AGE_HOURS: String(SWEEP.inventoryMaxAgeHours) } : {}),
    // The role the worker assumes in the member account an event names; the Organization the sweep fans out over.
    ...(stage.organization
      ? {
          SSEGUARD_MEMBER_ROLE_NAME: stage.organization.auditRoleName,
          SSEGUARD_ORGANIZATION_ID: stage.organization.id,
          ...(stage.organization.sweep.ous.length ? { SSEGUARD_ORG_OUS: stage.organization.sweep.ous.join(',') } : {}),
          ...(stage.organization.sweep.exclude.length ? { SSEGUARD_ORG_EXCLUDE: stage.organization.sweep.exclude.join(',') } : {}),
          ...(stage.organization.sweep.tags.length ? { SSEGUARD_ORG_TAGS: stage.organization.sweep.tags.join(',') } : {}),
          ...(stage.organization.sweep.buckets.length ? { SSEGUARD_ORG_BUCKETS: stage.organization.sweep.buckets.join(',') } : {}),
        }
      : {}),
    // The worker, the sweep and key events write an outbox item with each change; outbox-delivery sends them.
    ...(stage.integrations?.eventBus ? { SSEGUARD_EVENT_BUS: stage.integrations.eventBus } : {}),
    ...(stage.integrations?.securityHub ? { SSEGUARD_SECURITY_HUB: 'on' } : {}),
    // The sweep sends one message per report and the worker sweeps it from its diff in Athena.
    ...(stage.athenaDiff
      ? {
          SSEGUARD_ATHENA_DIFF_TABLE: `${stage.athenaDiff.database}.${stage.athenaDiff.table}`,
          SSEGUARD_ATHENA_WORKGROUP: stage.athenaDiff.workGroup,
          SSEGUARD_ATHENA_OUTPUT: athenaOutputLocation(stage.athenaDiff),
        }
      : {}),
  };
}

/** Where the inventory statements of each role point (empty without SSEGUARD_INVENTORY_DESTINATION); `s3Arn` names an S3 resource in the partition. */
export function inventoryScope<R>(stage: StageSettings, s3Arn: (resource: string) => R): { inventoryDestinations: R[]; inventoryReports: R[] } {
  if (!stage.inventory) return { inventoryDestinations: [], inventoryReports: [] };
  const { destinationBucket, prefix } = stage.inventory;
  return { inventoryDestinations: [s3Arn(destinationBucket)], inventoryReports: [s3Arn(`${destinationBucket}/${prefix}/*`)] };
}

// ── IAM ───────────────────────────────────────────────────────────────────────────────────────
/** Resources the statements are scoped to; R is a string in tests and a Pulumi output in stacks. */
export interface IamScope<R> {
  /** `arn:aws:s3:::<bucket>` of every monitored bucket. */
  buckets: R[];
  /** `arn:aws:s3:::<bucket>/*` of every monitored bucket. */
  objects: R[];
  /** The findings table's ARN and `<arn>/index/*`. */
  findingsTable: R[];
  idempotencyTable: R[];
  auditQueue: R[];
  deadLetterQueue: R[];
  /** Keys the auditor may describe, and decrypt from through S3 when fixing. */
  auditKeys: R[];
  /** Keys remediation may encrypt with (through S3 only). */
  targetKeys: R[];
  /** `arn:aws:s3:::<destination>` of the inventory reports (SSEGUARD_INVENTORY_DESTINATION); empty: none. */
  inventoryDestinations: R[];
  /** `arn:aws:s3:::<destination>/<prefix>/*`: the reports' manifests, checksums and data files. */
  inventoryReports: R[];
  /** With an Organization: the member roles each function may assume (memberRoleArns), in that Organization only; its roots and OUs, its accounts (the sweep lists them). */
  organization?: { id: string; auditRoles: R[]; remediationRoles: R[]; parents?: R[]; accounts?: R[] };
  /** `arn:aws:s3:::<evidence bucket>/<prefix>/*`: where the scheduled pack puts its files; empty: none. */
  evidencePacks?: R[];
  /** The evidence signing key's ARN: the only key the scheduled pack signs with. */
  evidenceSigningKeys?: R[];
  /** With SSEGUARD_EVENT_BUS: the bus's ARN, the one resource outbox delivery may PutEvents to. */
  eventBus?: R[];
  /** With SSEGUARD_SECURITY_HUB=on: the account's default product ARN, the one BatchImportFindings targets. */
  securityHubProduct?: R[];
  /** With SSEGUARD_ATHENA_DIFF_TABLE: the workgroup, the Glue catalog/database/table, the output location's objects and bucket. */
  athenaDiff?: { workGroup: R[]; glue: R[]; outputObjects: R[]; outputBucket: R[] };
}

export interface IamStatement<R> {
  sid: string;
  actions: string[];
  /** Resources, or ARN patterns the stack does not create (the member accounts' audit roles). */
  resources: (R | '*' | `arn:${string}`)[];
  conditions?: { test: string; variable: string; values: (R | string)[] }[];
}

/** KMS data-key actions only when S3 asks for them on the function's behalf (S3 of any Region the pattern admits). */
const viaS3 = <R>(s3Service: R) => [{ test: 'StringLike', variable: 'kms:ViaService', values: [s3Service] }];

const FINDINGS_READ = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'];
// DynamoDB authorises each item of a transaction as its single-item write: sseguard's transactions
// hold Put, Update and Delete items (sweep checkpoints, removed objects), no ConditionCheck.
const FINDINGS_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
const IDEMPOTENCY = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
const KEY_FACTS = ['kms:DescribeKey', 'kms:GetKeyRotationStatus'];

/** The `kms:ViaService` value for S3 in a region. */
export const s3ServiceName = (region: string): string => `s3.${region}.amazonaws.com`;
/**
 * S3 in every Region: the worker fixes buckets in each Region the account has buckets in, and S3 asks
 * KMS from the bucket's Region (a key must be in its bucket's Region), so one Region would deny the
 * others' fixes. The member template grants the same.
 */
export const S3_IN_ANY_REGION = 's3.*.amazonaws.com';

/**
 * The statements of each function's role beyond what SST adds itself (CloudWatch Logs, and for the
 * worker the event source mapping's sqs:ReceiveMessage/DeleteMessage/ChangeMessageVisibility/
 * GetQueueAttributes/GetQueueUrl on the audit queue). Each handler builds only its own
 * dependencies (functions/commons/*-dependencies.ts), so only the worker can change objects.
 */
export function iamStatements<R>(fn: FunctionName, scope: IamScope<R>, s3Service: R): IamStatement<R>[] {
  const tracing: IamStatement<R> = { sid: 'Tracing', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] };
  const keyFacts: IamStatement<R> = { sid: 'KeyFacts', actions: KEY_FACTS, resources: [...scope.auditKeys, ...scope.targetKeys] };
  // Key aliases, for people to read keys by: ListAliases has no resource-level permission.
  const keyAliases: IamStatement<R> = { sid: 'KeyAliases', actions: ['kms:ListAliases'], resources: ['*'] };
  const objectsRead: IamStatement<R> = { sid: 'ObjectsRead', actions: OBJECT_READ, resources: scope.objects };
  const buckets = (extra: string[] = []): IamStatement<R> => ({ sid: 'Buckets', actions: ['s3:ListBucket', ...extra], resources: scope.buckets });
  const findings = (actions: string[]): IamStatement<R> => ({ sid: 'Findings', actions, resources: scope.findingsTable });
  // The inventory tier reads reports where S3 delivers them: data files and manifests (GetObject),
  // report folders (ListBucket, to find the newest manifest). Never a write.
  const inventoryReports: IamStatement<R> = { sid: 'InventoryReports', actions: ['s3:GetObject'], resources: scope.inventoryReports };
  const inventoryDestinations: IamStatement<R> = { sid: 'InventoryDestinations', actions: ['s3:ListBucket'], resources: scope.inventoryDestinations };
  // The worker assumes the member audit role: it audits what a member account's event names and the
  // Organization sweep's units, and never fixes member objects (the remediation role in the member
  // template is for account scans from the CLI); outbox delivery assumes it to import a member's
  // Security Hub findings. The sweep only lists accounts (Organizations) and enqueues, and key events
  // queue member re-checks to the worker: neither sends AssumeRole (the IAM-from-code test holds it).
  const memberRoles = (): IamStatement<R>[] => {
    const org = scope.organization;
    if (!org) return [];
    return [{
      sid: 'AssumeMemberRoles',
      actions: ['sts:AssumeRole'],
      resources: org.auditRoles,
      conditions: [{ test: 'StringEquals', variable: 'aws:ResourceOrgID', values: [org.id] }],
    }];
  };
  // The Organization sweep lists the accounts in scope: DescribeOrganization (which Organization the
  // credentials are in) and ListAccounts have no resource-level permission; accounts and OUs under a
  // parent, and an account's tags, are scoped to this Organization's roots, OUs and accounts.
  const organizationListing = (): IamStatement<R>[] => {
    const org = scope.organization;
    if (!org?.parents || !org.accounts) return [];
    return [
      { sid: 'OrganizationAccounts', actions: ['organizations:DescribeOrganization', 'organizations:ListAccounts'], resources: ['*'] },
      { sid: 'OrganizationTree', actions: ['organizations:ListAccountsForParent', 'organizations:ListOrganizationalUnitsForParent'], resources: org.parents },
      { sid: 'OrganizationTags', actions: ['organizations:ListTagsForResource'], resources: org.accounts },
    ];
  };
  // The report diff in Athena (SSEGUARD_ATHENA_DIFF_TABLE), the worker's only: queries in the one
  // workgroup; the table and its partitions, which Athena creates in Glue with the caller's rights;
  // the result written (by Athena, as the caller) and read back under the output location. Athena
  // reads the reports with the caller's rights too: the inventory statements above cover them.
  const athenaDiff = (): IamStatement<R>[] => {
    const diff = scope.athenaDiff;
    if (!diff) return [];
    return [
      { sid: 'AthenaDiffQueries', actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'], resources: diff.workGroup },
      {
        sid: 'AthenaDiffTable',
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:CreateTable', 'glue:GetPartition', 'glue:GetPartitions', 'glue:CreatePartition', 'glue:BatchCreatePartition'],
        resources: diff.glue,
      },
      { sid: 'AthenaDiffResults', actions: ['s3:GetObject', 's3:PutObject'], resources: diff.outputObjects },
      { sid: 'AthenaDiffResultBucket', actions: ['s3:GetBucketLocation', 's3:ListBucket'], resources: diff.outputBucket },
    ];
  };
  switch (fn) {
    case 'auditWorker':
      return [
        ...memberRoles(),
        { sid: 'ObjectsFix', actions: [...OBJECT_READ, ...OBJECT_FIX], resources: scope.objects },
        buckets(),
        { sid: 'DecryptSourceViaS3', actions: ['kms:Decrypt', 'kms:ReEncryptFrom'], resources: [...scope.auditKeys, ...scope.targetKeys], conditions: viaS3(s3Service) },
        { sid: 'EncryptTargetViaS3', actions: ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:ReEncryptTo'], resources: scope.targetKeys, conditions: viaS3(s3Service) },
        keyFacts,
        keyAliases,
        findings([...FINDINGS_READ, ...FINDINGS_WRITE]),
        { sid: 'Idempotency', actions: IDEMPOTENCY, resources: scope.idempotencyTable },
        { sid: 'DeadLetter', actions: ['sqs:SendMessage', 'sqs:GetQueueUrl'], resources: scope.deadLetterQueue },
        // The last data file of an inventory report queues the report's reconciliation.
        { sid: 'AuditQueue', actions: ['sqs:SendMessage', 'sqs:GetQueueUrl'], resources: scope.auditQueue },
        inventoryReports,
        inventoryDestinations,
        ...athenaDiff(),
        tracing,
      ];
    case 'sweep':
      return [
        objectsRead,
        // ListObjectsV2 (ListObjectVersions with SSEGUARD_SWEEP_ALL_VERSIONS), and the bucket posture
        // the sweep records (GetBucketEncryption, GetBucketPolicy).
        // ListBucketInventoryConfigurations (SSEGUARD_SWEEP_INVENTORY=auto) needs s3:GetInventoryConfiguration.
        buckets(['s3:ListBucketVersions', 's3:GetEncryptionConfiguration', 's3:GetBucketPolicy', 's3:GetInventoryConfiguration']),
        keyFacts,
        keyAliases,
        findings([...FINDINGS_READ, ...FINDINGS_WRITE]),
        // ListBuckets resolves bucket globs; it cannot be scoped to buckets (IAM: resource "*").
        { sid: 'ListAllBuckets', actions: ['s3:ListAllMyBuckets'], resources: ['*'] },
        { sid: 'AuditQueue', actions: ['sqs:SendMessage', 'sqs:GetQueueUrl'], resources: scope.auditQueue },
        inventoryReports,
        inventoryDestinations,
        ...organizationListing(),
        tracing,
      ];
    case 'keyEvents':
      // Objects are re-evaluated from recorded facts; HeadObject only for states recorded before
      // those facts were kept. A blast radius larger than one page goes to the audit queue.
      return [
        objectsRead,
        buckets(),
        keyFacts,
        keyAliases,
        // Only when the policy says keyDeletion.cancelWhileObjectsDepend; the code can always send it.
        { sid: 'CancelKeyDeletion', actions: ['kms:CancelKeyDeletion'], resources: scope.auditKeys },
        findings([...FINDINGS_READ.filter((a) => a !== 'dynamodb:GetItem'), ...FINDINGS_WRITE]),
        { sid: 'AuditQueue', actions: ['sqs:SendMessage', 'sqs:GetQueueUrl'], resources: scope.auditQueue },
        tracing,
      ];
    case 'evidencePack':
      // Reads the whole table (a Scan: removed objects' history too), lists the buckets for coverage,
      // signs with the evidence key only, and only puts objects under the evidence prefix: no read,
      // no delete, so it can neither read nor replace a pack (its writes are If-None-Match).
      return [
        { sid: 'FindingsRead', actions: ['dynamodb:Query', 'dynamodb:Scan'], resources: scope.findingsTable },
        { sid: 'ListAllBuckets', actions: ['s3:ListAllMyBuckets'], resources: ['*'] },
        { sid: 'EvidenceSigning', actions: ['kms:Sign', 'kms:GetPublicKey'], resources: scope.evidenceSigningKeys ?? [] },
        { sid: 'EvidencePacks', actions: ['s3:PutObject'], resources: scope.evidencePacks ?? [] },
        tracing,
      ];
    case 'outboxDelivery':
      // Reads the outbox and the key counters (a key's blast radius), removes or marks what was
      // sent, holds the outbox lease and writes each destination's status: the findings table only.
      return [
        findings(['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']),
        ...(scope.eventBus?.length ? [{ sid: 'PutEvents', actions: ['events:PutEvents'], resources: scope.eventBus }] : []),
        ...(scope.securityHubProduct?.length ? [{ sid: 'ImportFindings', actions: ['securityhub:BatchImportFindings'], resources: scope.securityHubProduct }] : []),
        // A member's findings are imported with the member's audit role (Security Hub takes a finding
        // under the default product from its own account only): the audit role, in the Organization.
        ...(scope.securityHubProduct?.length ? memberRoles() : []),
        tracing,
      ];
    case 'reportApi':
      // Read-only, and only what the read modules send: items, queries, and batch reads of the items
      // an index lists (the indexes hold keys only); the evidence pack (GET /evidence) reads every
      // object's history, removed objects' too: a Scan.
      return [{ sid: 'FindingsRead', actions: [...FINDINGS_READ, 'dynamodb:Scan'], resources: scope.findingsTable }, tracing];
  }
}
