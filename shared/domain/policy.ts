// The encryption policy: a versioned document (JSON or YAML) that says, per bucket and prefix, which
// encryption objects must have, which KMS keys are allowed, and what to do about objects that differ.
// Parsing validates with zod and names the path of every bad field. Matching is pure.
import picomatch from 'picomatch';
import { parse as parseYaml } from 'yaml';
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
const bucketDefaultFields = z.strictObject({
  require: z.enum(REQUIRED_MODES).optional(),
  kmsKeys: z.array(kmsKeyRef).min(1).optional(),
  customerManagedKey: z.boolean().optional(),
  bucketKey: z.enum(['required', 'optional']).optional(),
});
type BucketDefaultFields = z.infer<typeof bucketDefaultFields>;

export const CLIENT_SIDE_ACCEPTANCE = ['allowed', 'forbidden', 'sufficient'] as const;
export type ClientSideAcceptance = (typeof CLIENT_SIDE_ACCEPTANCE)[number];

const requirementFields = {
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
const POSTURE_FIELDS = ['bucketDefault', 'requireTls', 'blockSseC', 'denyUnencryptedPuts'] as const;

const isoInstant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'expected a date (2027-01-31) or a date-time with offset (2027-01-31T12:00:00Z)',
});

const policyDocument = z.strictObject({
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
});
export type PolicyDocument = z.infer<typeof policyDocument>;

/** What one rule (or the default) requires, with every field filled in. Key refs as written. */
export interface Requirement<KeyRef = string> {
  require: RequiredMode;
  kmsKeys?: KeyRef[];
  customerManagedKey: boolean;
  bucketKey: 'required' | 'optional';
  keyRotation: 'required' | 'optional';
  remediate: boolean;
  target?: { mode: TargetMode; kmsKey?: KeyRef; bucketKey: boolean };
  /** What the bucket itself must be; judged once per bucket (see postureRequirementFor). */
  posture: PostureRequirement<KeyRef>;
  /** How objects encrypted by the S3 Encryption Client are judged. */
  clientSide: ClientSideRequirement;
}

export interface BucketDefaultRequirement<KeyRef = string> {
  require: RequiredMode;
  kmsKeys?: KeyRef[];
  customerManagedKey: boolean;
  bucketKey: 'required' | 'optional';
}

export interface PostureRequirement<KeyRef = string> {
  /** Undefined: the bucket's default encryption is reported, not judged. */
  bucketDefault?: BucketDefaultRequirement<KeyRef>;
  /** The bucket policy denies every request made without TLS (aws:SecureTransport false). */
  requireTls: boolean;
  /** The bucket blocks SSE-C uploads (BlockedEncryptionTypes SSE-C). */
  blockSseC: boolean;
  /** The bucket policy denies PutObject without an x-amz-server-side-encryption header. */
  denyUnencryptedPuts: boolean;
}

export interface ClientSideRequirement {
  /**
   * allowed: accepted, and the server-side layer beneath must still meet the rule (the default:
   * the verdict is what it was before client-side encryption was recognised);
   * forbidden: noncompliant; sufficient: client-side encryption meets the rule by itself.
   */
  accept: ClientSideAcceptance;
  /** Content encryption algorithms accepted; undefined accepts any. */
  algorithms?: string[];
  /** Whether the server-side layer of such objects may be re-encrypted (never decrypted); default false. */
  remediateServerSide: boolean;
}

export interface Scope {
  bucket: string;
  prefix: string;
}

export interface Exemption extends Scope {
  reason: string;
  owner: string;
  /** The instant the exemption stops applying; a date alone means 00:00 UTC that day. */
  expires: Date;
}

export interface Policy<KeyRef = string> {
  version: 1;
  default: Requirement<KeyRef>;
  rules: (Scope & Requirement<KeyRef>)[];
  exemptions: Exemption[];
}

/** A policy whose KMS key references are all resolved to key ARNs. */
export type ResolvedPolicy = Policy<string> & { resolved: true };

export class PolicyError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid policy ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PolicyError';
  }
}

/** The policy used when none is given: every object encrypted server-side, no SSE-C, report only. */
export const DEFAULT_POLICY_DOCUMENT = { version: 1 } as const;

const BUILT_IN: Requirement = {
  require: 'any',
  customerManagedKey: false,
  bucketKey: 'optional',
  keyRotation: 'optional',
  remediate: false,
  posture: { requireTls: false, blockSseC: false, denyUnencryptedPuts: false },
  clientSide: { accept: 'allowed', remediateServerSide: false },
};

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    return out ? `${out}.${String(part)}` : String(part);
  }, '');
}

const ALLOWED_TARGETS: Record<RequiredMode, readonly TargetMode[]> = {
  'sse-s3': ['sse-s3'],
  'sse-kms': ['sse-kms'],
  'dsse-kms': ['dsse-kms'],
  'any-kms': ['sse-kms', 'dsse-kms'],
  any: ['sse-s3', 'sse-kms', 'dsse-kms'],
};

/** Fills a requirement from the built-in defaults and checks fields that depend on each other. */
function completeRequirement(
  fields: z.infer<z.ZodObject<typeof requirementFields>>,
  inherited: Requirement,
  path: string,
  problems: string[],
  inheritedBucketDefault?: BucketDefaultFields,
): Requirement {
  const clientSide = fields.clientSide;
  const algorithms = clientSide?.algorithms ?? inherited.clientSide.algorithms;
  const merged: Requirement = {
    require: fields.require ?? inherited.require,
    customerManagedKey: fields.customerManagedKey ?? inherited.customerManagedKey,
    bucketKey: fields.bucketKey ?? inherited.bucketKey,
    keyRotation: fields.keyRotation ?? inherited.keyRotation,
    remediate: fields.remediate ?? inherited.remediate,
    posture: {
      requireTls: fields.requireTls ?? inherited.posture.requireTls,
      blockSseC: fields.blockSseC ?? inherited.posture.blockSseC,
      denyUnencryptedPuts: fields.denyUnencryptedPuts ?? inherited.posture.denyUnencryptedPuts,
    },
    clientSide: {
      accept: clientSide?.accept ?? inherited.clientSide.accept,
      remediateServerSide: clientSide?.remediateServerSide ?? inherited.clientSide.remediateServerSide,
      ...(algorithms ? { algorithms } : {}),
    },
  };
  const kmsKeys = fields.kmsKeys ?? inherited.kmsKeys;
  if (kmsKeys) merged.kmsKeys = kmsKeys;
  const at = (field: string) => (path ? `${path}.${field}` : field);
  // Omitted bucketDefault fields follow this rule's object requirement, so `bucketDefault: {}` means
  // "new objects written without headers must already meet the rule".
  const bucketDefault = fields.bucketDefault ?? inheritedBucketDefault;
  if (bucketDefault) {
    const defaultKeys = bucketDefault.kmsKeys ?? (bucketDefault.require === undefined ? merged.kmsKeys : undefined);
    merged.posture.bucketDefault = {
      require: bucketDefault.require ?? merged.require,
      customerManagedKey: bucketDefault.customerManagedKey ?? merged.customerManagedKey,
      bucketKey: bucketDefault.bucketKey ?? merged.bucketKey,
      ...(defaultKeys ? { kmsKeys: defaultKeys } : {}),
    };
  }

  if (merged.require === 'sse-s3' && fields.kmsKeys) {
    problems.push(`${at('kmsKeys')}: has no effect when require is sse-s3`);
  }
  // A rule that narrows require or kmsKeys gets its own target: the inherited one may not fit it.
  const inheritsTarget = fields.require === undefined && fields.kmsKeys === undefined;
  const explicitTarget = fields.target ?? (inheritsTarget ? inherited.target : undefined);
  const chosen = explicitTarget
    ? { mode: explicitTarget.mode, kmsKey: explicitTarget.kmsKey, bucketKey: explicitTarget.bucketKey }
    : deriveTarget(merged);
  if (chosen) {
    const bucketKey = chosen.bucketKey ?? (chosen.mode === 'sse-kms' && merged.bucketKey === 'required');
    merged.target = { mode: chosen.mode, bucketKey, ...(chosen.kmsKey ? { kmsKey: chosen.kmsKey } : {}) };
    checkTarget(merged, at('target'), problems);
  } else if (merged.remediate) {
    problems.push(
      `${at('target')}: required when remediate is true and require is ${merged.require}` +
        (merged.kmsKeys && merged.kmsKeys.length > 1 ? ' with several kmsKeys' : ''),
    );
  }
  if (merged.remediate && merged.target && merged.posture.bucketDefault) {
    checkTargetMeetsBucketDefault(merged.target, merged.posture.bucketDefault, at('target'), problems);
  }
  return merged;
}

/** Remediation sets the bucket default to the target: it must satisfy bucketDefault too. */
function checkTargetMeetsBucketDefault(
  target: NonNullable<Requirement['target']>,
  bucketDefault: BucketDefaultRequirement,
  path: string,
  problems: string[],
): void {
  if (!ALLOWED_TARGETS[bucketDefault.require].includes(target.mode)) {
    problems.push(`${path}.mode: ${target.mode} does not satisfy bucketDefault.require ${bucketDefault.require}`);
  }
  if (target.kmsKey && bucketDefault.kmsKeys && !bucketDefault.kmsKeys.includes(target.kmsKey)) {
    problems.push(`${path}.kmsKey: ${target.kmsKey} is not one of bucketDefault.kmsKeys`);
  }
  if (bucketDefault.bucketKey === 'required' && target.mode === 'sse-kms' && !target.bucketKey) {
    problems.push(`${path}.bucketKey: must be true when bucketDefault.bucketKey is required`);
  }
}

/** A target follows from the requirement when only one fix is possible. */
function deriveTarget(requirement: Requirement): { mode: TargetMode; kmsKey?: string; bucketKey?: boolean } | undefined {
  if (requirement.require === 'sse-s3') return { mode: 'sse-s3' };
  if ((requirement.require === 'sse-kms' || requirement.require === 'dsse-kms') && requirement.kmsKeys?.length === 1) {
    return { mode: requirement.require, kmsKey: requirement.kmsKeys[0]! };
  }
  return undefined;
}

function checkTarget(requirement: Requirement, path: string, problems: string[]): void {
  const target = requirement.target!;
  if (!ALLOWED_TARGETS[requirement.require].includes(target.mode)) {
    problems.push(`${path}.mode: ${target.mode} does not satisfy require ${requirement.require}`);
  }
  if (target.mode === 'sse-s3' && target.kmsKey) problems.push(`${path}.kmsKey: sse-s3 takes no KMS key`);
  if (target.mode !== 'sse-s3' && !target.kmsKey) {
    problems.push(`${path}.kmsKey: required for ${target.mode} (sseguard never guesses a key)`);
  }
  if (target.kmsKey && requirement.kmsKeys && !requirement.kmsKeys.includes(target.kmsKey)) {
    problems.push(`${path}.kmsKey: ${target.kmsKey} is not one of kmsKeys`);
  }
  if (target.mode === 'dsse-kms' && target.bucketKey) {
    problems.push(`${path}.bucketKey: S3 Bucket Keys are not supported with dsse-kms`);
  }
  if (requirement.bucketKey === 'required' && target.mode === 'sse-kms' && !target.bucketKey) {
    problems.push(`${path}.bucketKey: must be true when bucketKey is required`);
  }
}

function toInstant(value: string): Date {
  return new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
}

/** Validates a parsed document and fills in defaults; throws PolicyError naming each bad field. */
export function policyFromDocument(document: unknown, source = 'document'): Policy {
  const parsed = policyDocument.safeParse(document);
  if (!parsed.success) {
    throw new PolicyError(
      source,
      parsed.error.issues.map((issue) => `${formatPath(issue.path) || '(document)'}: ${issue.message}`),
    );
  }
  const problems: string[] = [];
  const doc = parsed.data;
  const defaults = completeRequirement(doc.default, BUILT_IN, 'default', problems);
  const rules = doc.rules.map(({ bucket, prefix, ...fields }, index) => {
    for (const field of POSTURE_FIELDS) {
      if (prefix && fields[field] !== undefined) {
        problems.push(`rules[${index}].${field}: applies to whole buckets; use it on a rule without prefix`);
      }
    }
    return {
      bucket,
      prefix: prefix ?? '',
      ...completeRequirement(fields, defaults, `rules[${index}]`, problems, doc.default.bucketDefault),
    };
  });
  const exemptions = doc.exemptions.map((e) => ({
    bucket: e.bucket,
    prefix: e.prefix ?? '',
    reason: e.reason,
    owner: e.owner,
    expires: toInstant(e.expires),
  }));
  if (problems.length > 0) throw new PolicyError(source, problems);
  return { version: 1, default: defaults, rules, exemptions };
}

/** Parses policy text: JSON when it looks like JSON, YAML otherwise. */
export function parsePolicy(text: string, source = 'document'): Policy {
  let document: unknown;
  try {
    document = text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new PolicyError(source, [`not valid JSON or YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
  return policyFromDocument(document ?? {}, source);
}

/** Every KMS key reference the policy names, for resolution to ARNs. */
export function keyReferences(policy: Policy): string[] {
  const refs = new Set<string>();
  for (const requirement of [policy.default, ...policy.rules]) {
    for (const ref of requirement.kmsKeys ?? []) refs.add(ref);
    for (const ref of requirement.posture.bucketDefault?.kmsKeys ?? []) refs.add(ref);
    if (requirement.target?.kmsKey) refs.add(requirement.target.kmsKey);
  }
  return [...refs];
}

/** Replaces every key reference by the ARN the resolver gives for it. */
export function resolvePolicy(policy: Policy, arnOf: (ref: string) => string): ResolvedPolicy {
  const resolveKeys = (refs: string[]) => [...new Set(refs.map(arnOf))];
  const resolve = <R extends Requirement>(requirement: R): R => ({
    ...requirement,
    ...(requirement.kmsKeys ? { kmsKeys: resolveKeys(requirement.kmsKeys) } : {}),
    posture: {
      ...requirement.posture,
      ...(requirement.posture.bucketDefault
        ? {
            bucketDefault: {
              ...requirement.posture.bucketDefault,
              ...(requirement.posture.bucketDefault.kmsKeys
                ? { kmsKeys: resolveKeys(requirement.posture.bucketDefault.kmsKeys) }
                : {}),
            },
          }
        : {}),
    },
    ...(requirement.target
      ? {
          target: {
            ...requirement.target,
            ...(requirement.target.kmsKey ? { kmsKey: arnOf(requirement.target.kmsKey) } : {}),
          },
        }
      : {}),
  });
  return { ...policy, default: resolve(policy.default), rules: policy.rules.map(resolve), resolved: true };
}

const globCache = new Map<string, (name: string) => boolean>();
function bucketMatches(glob: string, bucket: string): boolean {
  let matcher = globCache.get(glob);
  if (!matcher) {
    matcher = picomatch(glob, { dot: true });
    globCache.set(glob, matcher);
  }
  return matcher(bucket);
}

export const inScope = (scope: Scope, bucket: string, key: string): boolean =>
  bucketMatches(scope.bucket, bucket) && key.startsWith(scope.prefix);

/** The first rule whose bucket glob and prefix match wins; otherwise the default applies. */
export function requirementFor<P extends Policy>(
  policy: P,
  bucket: string,
  key: string,
): { requirement: P['default']; ruleIndex?: number } {
  const ruleIndex = policy.rules.findIndex((rule) => inScope(rule, bucket, key));
  return ruleIndex === -1 ? { requirement: policy.default } : { requirement: policy.rules[ruleIndex]!, ruleIndex };
}

/**
 * The requirement that judges a bucket's own posture: the first rule without a prefix whose bucket
 * glob matches (rules with a prefix judge objects only), otherwise the default.
 */
export function postureRequirementFor<P extends Policy>(
  policy: P,
  bucket: string,
): { requirement: P['default']; ruleIndex?: number } {
  const ruleIndex = policy.rules.findIndex((rule) => rule.prefix === '' && bucketMatches(rule.bucket, bucket));
  return ruleIndex === -1 ? { requirement: policy.default } : { requirement: policy.rules[ruleIndex]!, ruleIndex };
}

/** Exemptions in scope for the object, split into those still in force and those expired. */
export function exemptionsFor(
  policy: Policy,
  bucket: string,
  key: string,
  now: Date,
): { active?: Exemption; expired?: Exemption } {
  const matching = policy.exemptions.filter((e) => inScope(e, bucket, key));
  const active = matching.find((e) => e.expires.getTime() > now.getTime());
  const expired = matching.find((e) => e.expires.getTime() <= now.getTime());
  return { ...(active ? { active } : {}), ...(expired ? { expired } : {}) };
}
