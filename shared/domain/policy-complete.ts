// Completion and derivation: a validated document becomes a Policy with every field filled in
// (rules inherit the default, the default inherits the built-in one), targets derived where only one
// fix is possible, and the checks between fields that do not need KMS. Checks that compare key
// references run after resolution (policy-keys.ts): two spellings can name the same key.
import { parse as parseYaml } from 'yaml';
import { PolicyError, type BucketDefaultRequirement, type Policy, type Requirement } from './policy-model.ts';
import {
  POSTURE_FIELDS,
  policyDocument,
  type BucketDefaultFields,
  type RequiredMode,
  type RequirementFields,
  type TargetMode,
} from './policy-schema.ts';

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
  fields: RequirementFields,
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
  // Whether target.kmsKey is one of bucketDefault.kmsKeys is checked once keys are resolved.
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
  // Whether target.kmsKey is one of kmsKeys is checked once keys are resolved (policy-keys.ts).
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
  return { version: 1, default: defaults, rules, exemptions, keyDeletion: { cancelWhileObjectsDepend: doc.keyDeletion.cancelWhileObjectsDepend ?? false } };
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
