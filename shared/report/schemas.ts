// The report API's parameters, as zod schemas: validation and the OpenAPI document come from these.
import { z } from 'zod';
import { ENCRYPTION_MODES } from '../domain/encryption.ts';
import { REASON_CODES, VERDICTS } from '../domain/verdict.ts';

export const MAX_PAGE = 1000;
/** S3's limit on an object key, in UTF-8 bytes (DynamoDB would reject keys past 2,048 with a 500). */
export const MAX_KEY_BYTES = 1024;
const bucket = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3-63 of a-z 0-9 . -)')
  .describe('only objects in this bucket');
const prefix = z
  .string()
  .min(1, 'expected a non-empty key prefix')
  .refine((value) => Buffer.byteLength(value) <= MAX_KEY_BYTES, `expected a key prefix of at most ${MAX_KEY_BYTES} bytes`)
  .describe('only keys starting with this prefix; without `bucket`, applied in every bucket');
const verdict = z.enum(VERDICTS, { error: `expected one of ${VERDICTS.join(', ')}` }).describe('only this verdict');
const MODE_FILTERS = [...ENCRYPTION_MODES, 'unknown'] as const;
const mode = z.enum(MODE_FILTERS, { error: `expected one of ${MODE_FILTERS.join(', ')}` }).describe('only this encryption mode (`unknown`: the object could not be read)');
const kmsKey = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/,
    // The API has no KMS access (its role reads the findings table only): it cannot resolve a reference.
    'expected a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); the API cannot resolve an alias or key id: `sseguard report --kms-key` does',
  )
  .describe('only objects encrypted under this KMS key ARN');
export const cursor = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,4096}\.[A-Za-z0-9_-]{43}$/, 'expected the nextCursor of a previous page, unchanged')
  .describe('nextCursor of the previous page; only valid with the same filters and limit');
// Decimal digits, no leading zero: Number() would also take '0x10', '1e3', ' 5' and '' (as 0).
const wholeNumber = (value: unknown) => (typeof value === 'string' && /^(0|[1-9]\d*)$/.test(value) ? Number(value) : value);
const pageSize = `expected a whole number from 1 to ${MAX_PAGE}`;
export const limit = z
  .preprocess(wholeNumber, z.number({ error: pageSize }).int({ error: pageSize }).min(1, { error: pageSize }).max(MAX_PAGE, { error: pageSize }).default(100))
  .describe(`page size, at most ${MAX_PAGE}`);

export const noParameters = z.strictObject({});
const account = z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id').describe("only buckets of this AWS account");
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected a Region name (for example: us-east-1)').describe('only buckets in this Region');
const filters = {
  bucket: bucket.optional(),
  prefix: prefix.optional(),
  verdict: verdict.optional(),
  mode: mode.optional(),
  kmsKey: kmsKey.optional(),
  account: account.optional(),
  region: region.optional(),
};
export const findingsParameters = z.strictObject({ ...filters, limit, cursor: cursor.optional() });
export const bucketsParameters = z.strictObject({ verdict: verdict.optional() });
export type BucketsParameters = z.infer<typeof bucketsParameters>;
export const exportParameters = z.strictObject({ ...filters, cursor: cursor.optional() });
export const evidenceParameters = z.strictObject({
  asOf: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time, e.g. 2026-09-30T23:59:59Z' }).optional().describe('reconstruct the population as of this time from the history (default: now, the recorded state)'),
  window: z.string().regex(/^[1-9]\d{0,3}d$/, 'expected a number of days, e.g. 90d').optional().describe('changes in this window before the as-of time (default 90d)'),
  bucket: bucket.optional(),
});
export type EvidenceParameters = z.infer<typeof evidenceParameters>;
export const remediationsParameters = z.strictObject({
  limit: z
    .preprocess(wholeNumber, z.number({ error: pageSize }).int({ error: pageSize }).min(1, { error: pageSize }).max(MAX_PAGE, { error: pageSize }).default(50))
    .describe(`page size, at most ${MAX_PAGE}`),
  cursor: cursor.optional(),
});
export type RemediationsParameters = z.infer<typeof remediationsParameters>;
export type FindingsParameters = z.infer<typeof findingsParameters>;
export type ExportParameters = z.infer<typeof exportParameters>;

// Response shapes, for the OpenAPI document (the handlers build them from typed views).
const reason = z.object({ code: z.enum(REASON_CODES), message: z.string() });
export const findingSchema = z.object({
  account: z.string().nullable(),
  region: z.string().nullable(),
  bucket: z.string(),
  key: z.string(),
  versionId: z.string().nullable(),
  /** false for a noncurrent version (audited with --all-versions). */
  isLatest: z.boolean(),
  mode: z.enum(ENCRYPTION_MODES).nullable(),
  kmsKeyArn: z.string().nullable(),
  bucketKeyEnabled: z.boolean().nullable(),
  verdict: z.enum(VERDICTS),
  reasons: z.array(reason),
  size: z.number(),
  storageClass: z.string().nullable(),
  etag: z.string().nullable(),
  lastModified: z.string().nullable(),
  auditedAt: z.string(),
  /** What the finding rests on (a HeadObject, or an S3 Inventory report's row) and when it was true. */
  evidence: z.enum(['head', 'inventory', 'metadata-table']).nullable(),
  evidenceAt: z.string().nullable(),
  policy: z
    .object({ version: z.number(), hash: z.string().describe('sha256: and 16 hex digits of the normalised policy (keys resolved to ARNs)') })
    .nullable()
    .describe('the policy that judged the finding; null when recorded before findings named their policy'),
  firstSeen: z.string(),
  lastSeen: z.string(),
  remediation: z.object({ action: z.string(), outcome: z.string(), before: z.unknown(), after: z.unknown(), at: z.string() }).optional(),
});
export const findingsPageSchema = z.object({ findings: z.array(findingSchema), nextCursor: z.string().nullable() });
export const errorSchema = z.object({
  error: z.object({
    status: z.number(),
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ parameter: z.string(), message: z.string() })).optional(),
  }),
});
const counts = z.object({
  objects: z.number(),
  bytes: z.number(),
  compliancePercent: z.number().describe('compliant or exempt objects over all objects, in percent'),
  verdicts: z.record(z.enum(VERDICTS), z.number()),
  modes: z.record(z.enum(MODE_FILTERS), z.number()),
});
export const keySchema = z.object({
  arn: z.string(),
  status: z.enum(['described', 'not-found', 'access-denied', 'error', 'unknown']),
  state: z.string().optional(),
  manager: z.enum(['AWS', 'CUSTOMER']).optional(),
  rotationEnabled: z.boolean().optional(),
  deletionDate: z.string().optional(),
  checkedAt: z.string().optional(),
  aliases: z.array(z.string()).describe('alias names of the key (alias/finance), from ListAliases'),
  atRisk: z.boolean().describe('objects depend on the key, and KMS cannot decrypt with it or those objects are at-risk'),
  objects: z.number().describe('blast radius: objects encrypted under the key'),
  bytes: z.number().describe('blast radius: their bytes'),
  verdicts: z.record(z.enum(VERDICTS), z.number()),
});
const remediationSchema = z.object({
  bucket: z.string(),
  key: z.string(),
  action: z.string(),
  outcome: z.string(),
  description: z.string().describe('the change in words: sse-s3 → sse-kms (alias/finance), bucket key on, ETag kept'),
  before: z.unknown(),
  after: z.unknown(),
  at: z.string(),
});
const scanRun = z.object({ id: z.string(), bucket: z.string(), prefix: z.string(), startedAt: z.string(), finishedAt: z.string(), objects: z.number(), verdicts: z.record(z.string(), z.number()), empty: z.boolean().optional().describe('the run audited no object: it proves nothing and is not plotted in the trend'), interrupted: z.object({ listingFinished: z.boolean() }).optional().describe('stopped by a signal before its end: not plotted in the trend, not coverage') });
export const summarySchema = z.object({
  generatedAt: z.string(),
  overall: counts,
  buckets: z.array(counts.extend({ bucket: z.string(), lastSweepAt: z.string().nullable() })),
  accounts: z.array(counts.extend({ account: z.string() })).describe('per AWS account, the worst first'),
  atRiskKeys: z.array(keySchema),
  lastSweep: scanRun.nullable(),
  coverage: z.object({ buckets: z.number(), bucketsSwept: z.number(), objectsPercent: z.number(), oldestSweepAt: z.string().nullable() }),
  trend: z
    .array(z.object({ id: z.string(), scope: z.string().describe('bucket, bucket/prefix, or (sweep)'), bucket: z.string(), prefix: z.string(), finishedAt: z.string(), objects: z.number(), compliancePercent: z.number() }))
    .describe('compliance per run, oldest first, each with its scope; runs that audited no object are left out'),
  recentRemediations: z.array(remediationSchema).describe('the newest few fixes; GET /remediations pages through all of them'),
  posture: z.object({ buckets: z.number(), verdicts: z.partialRecord(z.enum(VERDICTS), z.number()) }).describe('bucket postures by verdict'),
});
export const remediationsPageSchema = z.object({ remediations: z.array(remediationSchema), nextCursor: z.string().nullable() });
export const bucketsSchema = z.object({
  buckets: z.array(
    z.object({
      bucket: z.string(),
      verdict: z.enum(VERDICTS),
      reasons: z.array(reason),
      auditedAt: z.string(),
      defaultEncryption: z.object({ status: z.enum(['configured', 'none', 'unreadable']), mode: z.string().optional(), kmsKeyArn: z.string().optional(), kmsKeyState: z.string().optional(), bucketKeyEnabled: z.boolean().optional() }),
      sseC: z.enum(['blocked', 'allowed', 'unknown']),
      policy: z.enum(['none', 'read', 'unreadable', 'invalid']),
      tls: z.enum(['enforced', 'not-enforced', 'unknown']),
      unencryptedPuts: z.enum(['denied', 'allowed', 'unknown']),
      notes: z.array(z.string()),
    }),
  ),
});
export const keysSchema = z.object({ keys: z.array(keySchema) });
export const objectSchema = z.object({
  state: findingSchema.nullable(),
  history: z.array(
    z.object({
      auditedAt: z.string(),
      rev: z.number(),
      verdict: z.enum(VERDICTS),
      previousVerdict: z.enum(VERDICTS).optional(),
      mode: z.enum(ENCRYPTION_MODES).optional(),
      kmsKeyArn: z.string().optional(),
      versionId: z.string().optional(),
      etag: z.string().optional(),
      reasons: z.array(reason),
      policy: z.object({ version: z.number(), hash: z.string() }).optional().describe('the policy that judged this audit'),
      remediation: z.object({ action: z.string(), before: z.unknown(), after: z.unknown(), at: z.string() }).optional(),
    }),
  ),
});
