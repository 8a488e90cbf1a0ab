// Which policy judged a finding: the document's version and a content hash of the normalised policy
// (every field filled in, every key reference resolved to its key ARN, keys of every map sorted).
// Two files that say the same thing in other words (YAML or JSON, an alias or the ARN it points to,
// defaults spelled out or left out) hash the same; a change that can move a verdict changes the hash,
// re-pointing an alias included. The normalised document is also what is stored, content-addressed,
// so that a Batch job is folded under the policy it was created under (shared/findings/).
import { createHash } from 'node:crypto';
import type { ResolvedPolicy } from './policy-model.ts';

export interface PolicyId {
  /** The document's schema version (`version:` in the file). */
  version: number;
  /** `sha256:` and the first 16 hex digits of the SHA-256 of the normalised policy. */
  hash: string;
}

/** JSON with the keys of every map sorted; dates as ISO strings (JSON.stringify calls toJSON first). */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_name, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );

/** The normalised policy as text: what is hashed and what is stored. */
export function normalisedPolicy(policy: ResolvedPolicy): string {
  return canonical(policy);
}

const ids = new WeakMap<ResolvedPolicy, PolicyId>();

/** The policy's identity, computed once per loaded policy. */
export function policyIdOf(policy: ResolvedPolicy): PolicyId {
  let id = ids.get(policy);
  if (!id) {
    id = { version: policy.version, hash: `sha256:${createHash('sha256').update(normalisedPolicy(policy)).digest('hex').slice(0, 16)}` };
    ids.set(policy, id);
  }
  return id;
}

/** A stored normalised policy back as the evaluator reads it (exemption expiries are instants). */
export function policyFromNormalised(text: string): ResolvedPolicy {
  const parsed = JSON.parse(text) as ResolvedPolicy & { exemptions: { expires: string | Date }[] };
  return { ...parsed, exemptions: parsed.exemptions.map((e) => ({ ...e, expires: new Date(e.expires) })) } as ResolvedPolicy;
}

/** One line naming a policy, as the CLI and the dashboard show it. */
export const describePolicyId = (id: PolicyId): string => `${id.hash} (version ${id.version})`;
