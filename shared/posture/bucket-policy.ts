// Bucket policy analysis: parses the policy JSON into statements (every Principal, Action, Resource
// and Condition form IAM accepts) and decides, statement by statement, whether the policy denies
// requests made without TLS and PutObject requests without server-side encryption. Pure.
//
// IAM semantics relied on (IAM User Guide, "Condition operators" and "Policy evaluation logic"):
// - statements with several conditions (operators or keys) apply only when all hold: an extra
//   condition on a Deny narrows it, so such a statement does not count as an unconditional deny;
// - a negated operator (StringNotEquals, StringNotLike) is true when the key is absent, and an
//   …IfExists operator is true when the key is absent: both deny requests without the header;
// - action names match case-insensitively, resources case-sensitively, with * and ? wildcards;
// - Bool values are compared as text ("false" and false are the same value).

export interface ConditionEntry {
  /** As written, e.g. Bool, StringNotEquals, Null, ForAnyValue:StringLike. */
  operator: string;
  /** Lower-cased: condition key names are case-insensitive. */
  key: string;
  values: string[];
}

export interface PolicyStatement {
  index: number;
  sid?: string;
  effect: string;
  /** Principal "*" or {"AWS": "*"} (or a list holding "*"): every caller, signed or not. */
  everyone: boolean;
  notPrincipal: boolean;
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  conditions: ConditionEntry[];
}

export type ParsedBucketPolicy = { ok: true; statements: PolicyStatement[] } | { ok: false; problem: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A policy element that is a string or a list of strings; undefined when absent. */
function stringList(value: unknown, element: string, at: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((item) => typeof item === 'string')) throw new Error(`${at}.${element}: expected a string or a list of strings`);
  return list as string[];
}

function conditionValues(value: unknown, at: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (typeof item === 'string' || typeof item === 'boolean' || typeof item === 'number') return String(item);
    throw new Error(`${at}: condition values must be strings, booleans or numbers`);
  });
}

function everyone(principal: unknown): boolean {
  if (principal === '*') return true;
  if (!isObject(principal)) return false;
  const aws = principal.AWS;
  return aws === '*' || (Array.isArray(aws) && aws.includes('*'));
}

function parseStatement(raw: unknown, index: number): PolicyStatement {
  const at = `Statement[${index}]`;
  if (!isObject(raw)) throw new Error(`${at}: expected an object`);
  if (typeof raw.Effect !== 'string') throw new Error(`${at}.Effect: expected Allow or Deny`);
  const conditions: ConditionEntry[] = [];
  if (raw.Condition !== undefined) {
    if (!isObject(raw.Condition)) throw new Error(`${at}.Condition: expected an object`);
    for (const [operator, keys] of Object.entries(raw.Condition)) {
      if (!isObject(keys)) throw new Error(`${at}.Condition.${operator}: expected an object of condition keys`);
      for (const [key, value] of Object.entries(keys)) {
        conditions.push({ operator, key: key.toLowerCase(), values: conditionValues(value, `${at}.Condition.${operator}.${key}`) });
      }
    }
  }
  const optional = <T>(name: string, value: T | undefined) => (value === undefined ? {} : { [name]: value });
  return {
    index,
    ...(typeof raw.Sid === 'string' ? { sid: raw.Sid } : {}),
    effect: raw.Effect,
    everyone: everyone(raw.Principal),
    notPrincipal: raw.NotPrincipal !== undefined,
    ...optional('actions', stringList(raw.Action, 'Action', at)),
    ...optional('notActions', stringList(raw.NotAction, 'NotAction', at)),
    ...optional('resources', stringList(raw.Resource, 'Resource', at)),
    ...optional('notResources', stringList(raw.NotResource, 'NotResource', at)),
    conditions,
  };
}

/** Parses a bucket policy document; a problem names what made it unreadable. */
export function parseBucketPolicy(text: string): ParsedBucketPolicy {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not valid JSON: ${(error as Error).message}` };
  }
  if (!isObject(document)) return { ok: false, problem: 'not a JSON object' };
  const raw = document.Statement;
  if (raw === undefined) return { ok: false, problem: 'no Statement' };
  const list = Array.isArray(raw) ? raw : [raw];
  try {
    return { ok: true, statements: list.map(parseStatement) };
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }
}

// ---------------------------------------------------------------- matching

function globRegExp(pattern: string, flags: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}
const matchesAction = (pattern: string, action: string) => globRegExp(pattern, 'i').test(action);
const matchesResource = (pattern: string, arn: string) => globRegExp(pattern, '').test(arn);

/** The ARN partition of a region (aws, aws-cn, aws-us-gov). */
export function partitionOf(region: string | undefined): string {
  if (region?.startsWith('cn-')) return 'aws-cn';
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export const bucketArn = (bucket: string, partition = 'aws') => `arn:${partition}:s3:::${bucket}`;

/** Does the pattern match every object ARN of the bucket (a trailing * after a matching prefix)? */
function coversAllObjects(pattern: string, bucket: string, partition: string): boolean {
  if (!pattern.endsWith('*')) return false;
  const head = pattern.slice(0, -1);
  const objectPrefix = `${bucketArn(bucket, partition)}/`;
  // The final * absorbs any key, so the pattern covers all objects when the text before it matches
  // some prefix of "arn:…:s3:::bucket/" (including all of it).
  for (let length = 0; length <= objectPrefix.length; length++) {
    if (matchesResource(head, objectPrefix.slice(0, length))) return true;
  }
  return false;
}

export interface ResourceCoverage {
  bucket: boolean;
  objects: boolean;
}

function coverage(resources: readonly string[], bucket: string, partition: string): ResourceCoverage {
  return {
    bucket: resources.some((r) => matchesResource(r, bucketArn(bucket, partition))),
    objects: resources.some((r) => coversAllObjects(r, bucket, partition)),
  };
}

// ---------------------------------------------------------------- analyses

export interface DenyAnalysis {
  /** Statements (index, and Sid when set) that together make the deny. */
  statements: { index: number; sid?: string }[];
  /** Deny statements that come close but do not count, and why: shown to the person reading the finding. */
  nearMisses: string[];
}

export interface TlsAnalysis extends DenyAnalysis {
  /** Every request without TLS is denied, for every principal, on the bucket and its objects. */
  enforced: boolean;
}

const describe = (s: PolicyStatement) => (s.sid ? `statement ${s.index} (${s.sid})` : `statement ${s.index}`);
const ref = (s: PolicyStatement) => ({ index: s.index, ...(s.sid ? { sid: s.sid } : {}) });

/** Why a Deny does not apply to every caller and every action matching `action`, if it does not. */
function scopeProblem(s: PolicyStatement, covers: (action: string) => boolean, actionWanted: string): string | undefined {
  if (s.notPrincipal) return 'uses NotPrincipal (some callers are not denied)';
  if (!s.everyone) return 'does not apply to every principal ("*" or {"AWS": "*"})';
  if (s.notActions) return 'uses NotAction (some actions are not denied)';
  if (!s.actions?.some(covers)) return `does not cover ${actionWanted}`;
  if (s.notResources) return 'uses NotResource';
  if (!s.resources) return 'has no Resource';
  return undefined;
}

const SECURE_TRANSPORT = 'aws:securetransport';
const isFalse = (values: string[]) => values.length > 0 && values.every((v) => v.toLowerCase() === 'false');

/** A condition block that is exactly "aws:SecureTransport is false" (Bool, or BoolIfExists which also denies when absent). */
function insecureTransportOnly(conditions: ConditionEntry[]): boolean | 'narrowed' | 'no' {
  const transport = conditions.filter((c) => c.key === SECURE_TRANSPORT && /^Bool(IfExists)?$/.test(c.operator) && isFalse(c.values));
  if (transport.length === 0) return 'no';
  return conditions.length === 1 ? true : 'narrowed';
}

/**
 * The policy enforces TLS when Deny statements for every principal and every S3 action (s3:* or *),
 * conditioned only on aws:SecureTransport false, cover the bucket ARN and all its objects — in one
 * statement or split between several.
 */
export function analyseTls(statements: readonly PolicyStatement[], bucket: string, partition = 'aws'): TlsAnalysis {
  const nearMisses: string[] = [];
  const qualifying: PolicyStatement[] = [];
  for (const s of statements) {
    if (s.effect !== 'Deny') continue;
    const transport = insecureTransportOnly(s.conditions);
    if (transport === 'no') continue;
    const problem =
      transport === 'narrowed'
        ? 'has further conditions that narrow the deny'
        : scopeProblem(s, (a) => a === '*' || a.toLowerCase() === 's3:*', 'every S3 action (s3:*)');
    if (problem) nearMisses.push(`${describe(s)} denies insecure transport but ${problem}`);
    else qualifying.push(s);
  }
  const covered = coverage(qualifying.flatMap((s) => s.resources ?? []), bucket, partition);
  if (qualifying.length > 0 && !(covered.bucket && covered.objects)) {
    nearMisses.push(
      `the insecure-transport deny covers ${covered.bucket ? 'the bucket' : 'not the bucket'} and ${covered.objects ? 'all objects' : 'not all objects'}` +
        ` (needs ${bucketArn(bucket, partition)} and ${bucketArn(bucket, partition)}/*)`,
    );
  }
  const enforced = qualifying.length > 0 && covered.bucket && covered.objects;
  return { enforced, statements: enforced ? qualifying.map(ref) : [], nearMisses };
}

export interface PutEncryptionAnalysis extends DenyAnalysis {
  /** PutObject without an x-amz-server-side-encryption header is denied for every principal. */
  deniesMissingHeader: boolean;
  /** The header values a PutObject must carry (StringNotEquals on the header); undefined: any. */
  requiredAlgorithms?: string[];
  /** The key ids a PutObject must name (StringNotEquals on the KMS key id header); undefined: not required. */
  requiredKmsKeys?: string[];
}

const SSE_HEADER = 's3:x-amz-server-side-encryption';
const SSE_KEY_HEADER = 's3:x-amz-server-side-encryption-aws-kms-key-id';
// Negated operators (with or without IfExists) are true when the header is absent: they deny puts without it.
const NEGATED = /^String(NotEquals|NotEqualsIgnoreCase|NotLike)(IfExists)?$/;

/** Deny statements on PutObject for every principal and all objects, conditioned on one SSE header. */
export function analysePutEncryption(statements: readonly PolicyStatement[], bucket: string, partition = 'aws'): PutEncryptionAnalysis {
  const result: PutEncryptionAnalysis = { deniesMissingHeader: false, statements: [], nearMisses: [] };
  for (const s of statements) {
    if (s.effect !== 'Deny') continue;
    const headerConditions = s.conditions.filter((c) => c.key === SSE_HEADER || c.key === SSE_KEY_HEADER);
    if (headerConditions.length === 0) continue;
    const problem =
      s.conditions.length > 1
        ? 'has several conditions, which must all hold (the deny is narrower than any one of them)'
        : (scopeProblem(s, (a) => matchesAction(a, 's3:PutObject'), 's3:PutObject') ??
          (coverage(s.resources ?? [], bucket, partition).objects ? undefined : `does not cover ${bucketArn(bucket, partition)}/*`));
    if (problem) {
      result.nearMisses.push(`${describe(s)} conditions PutObject on an encryption header but ${problem}`);
      continue;
    }
    const [condition] = headerConditions as [ConditionEntry];
    const nullTrue = condition.operator === 'Null' && condition.values.some((v) => v.toLowerCase() === 'true');
    if (!nullTrue && !NEGATED.test(condition.operator)) {
      result.nearMisses.push(`${describe(s)} uses ${condition.operator} on ${condition.key}, which does not deny puts without it`);
      continue;
    }
    result.statements.push(ref(s));
    // A put without the SSE header carries no KMS key header either: a deny on either header denies it.
    result.deniesMissingHeader = true;
    if (NEGATED.test(condition.operator)) {
      if (condition.key === SSE_HEADER) result.requiredAlgorithms = condition.values;
      else result.requiredKmsKeys = condition.values;
    }
  }
  return result;
}
