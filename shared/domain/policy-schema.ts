// The policy document's schema: what a policy file may say, validated with zod so that every bad
// field is reported with its path. Completion (policy-complete.ts) fills in what it leaves out.
import { z } from 'zod';

export const REQUIRED_MODES = ['sse-s3', 'sse-kms', 'dsse-kms', 'any-kms', 'any'] as const;
export type RequiredMode = (typeof REQUIRED_MODES)[number];
export const TARGET_MODES = ['sse-s3', 'sse-kms', 'dsse-kms'] as const;
export type TargetMode = (typeof TARGET_MODES)[number];

const KMS_KEY_REF =
  /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key\/[A-Za-z0-9-]+|alias\/[A-Za-z0-9/_-]+)|alias\/[A-Za-z0-9/_-]+|(mrk-)?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const kmsKeyRef = z.string().regex(KMS_KEY_REF, 'expected a KMS key ARN, alias ARN, alias/NAME or key id');
// Bucket names are lower-case letters, digits, dots and hyphens; the glob adds * ? [ ] { } , !
const bucketGlob = z
  .string()
  .min(1)
  .regex(/^[a-z0-9.\-*?[\]{},!]+$/, 'expected a bucket name or glob (a-z 0-9 . - and * ? [] {})');

const target = z.strictObject({
  mode: z.enum(TARGET_MODES),
  kmsKey: kmsKeyRef.optional(),
  bucketKey: z.boolean().optional(),
});

// What the bucket's default encryption must be; omitted fields take the rule's own object requirement.
export const bucketDefaultFields = z.strictObject({
  require: z.enum(REQUIRED_MODES).optional(),
  kmsKeys: z.array(kmsKeyRef).min(1).optional(),
  customerManagedKey: z.boolean().optional(),
  bucketKey: z.enum(['required', 'optional']).optional(),
});
export type BucketDefaultFields = z.infer<typeof bucketDefaultFields>;

export const CLIENT_SIDE_ACCEPTANCE = ['allowed', 'forbidden', 'sufficient'] as const;
export type ClientSideAcceptance = (typeof CLIENT_SIDE_ACCEPTANCE)[number];

export const requirementFields = {
  require: z.enum(REQUIRED_MODES).optional(),
  kmsKeys: z.array(kmsKeyRef).min(1).optional(),
  customerManagedKey: z.boolean().optional(),
  bucketKey: z.enum(['required', 'optional']).optional(),
  keyRotation: z.enum(['required', 'optional']).optional(),
  remediate: z.boolean().optional(),
  target: target.optional(),
  // Bucket posture: only on the default and on rules without a prefix (they judge whole buckets).
  bucketDefault: bucketDefaultFields.optional(),
  requireTls: z.boolean().optional(),
  blockSseC: z.boolean().optional(),
  denyUnencryptedPuts: z.boolean().optional(),
  clientSide: z
    .strictObject({
      accept: z.enum(CLIENT_SIDE_ACCEPTANCE).optional(),
      algorithms: z.array(z.string().trim().min(1)).min(1).optional(),
      remediateServerSide: z.boolean().optional(),
    })
    .optional(),
};
export const POSTURE_FIELDS = ['bucketDefault', 'requireTls', 'blockSseC', 'denyUnencryptedPuts'] as const;
/** The fields of the default and of each rule, as written. */
export type RequirementFields = z.infer<z.ZodObject<typeof requirementFields>>;

const isoInstant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'expected a date (2027-01-31) or a date-time with offset (2027-01-31T12:00:00Z)',
});

export const policyDocument = z.strictObject({
  version: z.literal(1, { error: 'expected version: 1' }),
  default: z.strictObject(requirementFields).default({}),
  rules: z
    .array(z.strictObject({ bucket: bucketGlob, prefix: z.string().optional(), ...requirementFields }))
    .default([]),
  exemptions: z
    .array(
      z.strictObject({
        bucket: bucketGlob,
        prefix: z.string().optional(),
        reason: z.string().trim().min(1),
        owner: z.string().trim().min(1),
        expires: isoInstant,
      }),
    )
    .default([]),
  // What to do when a KMS key objects still depend on is scheduled for deletion.
  keyDeletion: z.strictObject({ cancelWhileObjectsDepend: z.boolean().optional() }).default({}),
});
export type PolicyDocument = z.infer<typeof policyDocument>;

/** The policy used when none is given: every object encrypted server-side, no SSE-C, report only. */
export const DEFAULT_POLICY_DOCUMENT = { version: 1 } as const;
