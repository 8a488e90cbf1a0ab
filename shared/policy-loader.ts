// Loads a policy file and resolves every KMS key reference it names (aliases, key ids) to the key
// ARN that S3 reports, once, before any object is audited.
import { readFile } from 'node:fs/promises';
import {
  DEFAULT_POLICY_DOCUMENT,
  PolicyError,
  keyReferences,
  referencePaths,
  parsePolicy,
  policyFromDocument,
  resolvePolicy,
  type Policy,
  type ResolvedPolicy,
} from './domain/policy.ts';
import { isTransientServiceError, unreachableEndpoint } from './aws/errors.ts';
import type { KeyInspector } from './inspect/key-inspector-port.ts';

/** Resolving references is the one thing the loader asks of the key inspector port. */
export type KeyResolver = Pick<KeyInspector, 'arnOf'>;

export async function readPolicyFile(path: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PolicyError(path, [code === 'ENOENT' ? 'file not found' : `cannot read: ${(error as Error).message}`]);
  }
  return parsePolicy(text, path);
}

export async function resolveKeys(policy: Policy, resolver: KeyResolver, source: string): Promise<ResolvedPolicy> {
  const refs = keyReferences(policy);
  const arns = new Map<string, string>();
  const problems: string[] = [];
  await Promise.all(
    refs.map(async (ref) => {
      try {
        arns.set(ref, await resolver.arnOf(ref));
      } catch (error) {
        // An endpoint that does not answer, throttling or a 5xx says nothing about the policy.
        const cause = (error as Error).cause ?? error;
        if (unreachableEndpoint(cause, undefined) || isTransientServiceError(cause)) throw cause;
        problems.push(`${referencePaths(policy, ref).join(', ') || 'kmsKeys'}: ${(error as Error).message}`);
      }
    }),
  );
  if (problems.length > 0) throw new PolicyError(source, problems.sort());
  return resolvePolicy(policy, (ref) => arns.get(ref)!, source);
}

/** The policy at `path`, or the default policy (any server-side encryption, no SSE-C, report only). */
export async function loadPolicy(path: string | undefined, resolver: KeyResolver): Promise<ResolvedPolicy> {
  const policy = path ? await readPolicyFile(path) : policyFromDocument(DEFAULT_POLICY_DOCUMENT, 'default policy');
  return resolveKeys(policy, resolver, path ?? 'default policy');
}
