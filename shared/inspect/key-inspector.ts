// KMS adapter for key facts. Lookups are cached per process (promise per key reference), so a run
// makes at most one DescribeKey per distinct key however many objects and workers ask at once. A
// long-lived process (a warm Lambda) gives entries a lifetime, so a key disabled since is seen.
import { DescribeKeyCommand, GetKeyRotationStatusCommand, paginateListAliases, type KMSClient } from '@aws-sdk/client-kms';
import { errorFacts } from '../aws/errors.ts';
import { KEY_STATES, type KeyLookup, type KeyState } from '../domain/encryption.ts';
import type { KeyInspector } from './key-inspector-port.ts';

// Kept here for importers from before the port had its own file.
export type { KeyInspector } from './key-inspector-port.ts';

/** The SDK error behind each failed lookup, kept beside it (the lookup itself is a domain fact). */
const failedLookupCauses = new WeakMap<KeyLookup, unknown>();

export class KmsKeyInspector implements KeyInspector {
  private readonly cache = new Map<string, { lookup: Promise<KeyLookup>; expires: number }>();
  /** Alias names per key ARN: asked once per key, whatever reference (alias, id, ARN) looked it up. */
  private readonly aliasCache = new Map<string, { aliases: Promise<string[] | undefined>; expires: number }>();

  constructor(
    private readonly kms: KMSClient,
    private readonly options: { ttlMs?: number; now?: () => number } = {},
  ) {}

  lookup(keyRef: string): Promise<KeyLookup> {
    const now = this.options.now?.() ?? Date.now();
    const cached = this.cache.get(keyRef);
    if (cached && cached.expires > now) return cached.lookup;
    const lookup = this.describe(keyRef);
    const entry = { lookup, expires: now + (this.options.ttlMs ?? Number.POSITIVE_INFINITY) };
    this.cache.set(keyRef, entry);
    // A failed lookup (throttled, 5xx, timed out) is weather: the next object asks KMS again.
    void lookup.then((found) => {
      if (found.status === 'error' && this.cache.get(keyRef) === entry) this.cache.delete(keyRef);
    });
    return lookup;
  }

  /** Forgets one key (a key-state event says it changed) or all of them. */
  forget(keyRef?: string): void {
    if (keyRef) {
      this.cache.delete(keyRef);
      this.aliasCache.delete(keyRef);
    } else {
      this.cache.clear();
      this.aliasCache.clear();
    }
  }

  /** The key ARN a reference (alias, alias ARN, key id, key ARN) stands for, or a clear error. */
  async arnOf(keyRef: string): Promise<string> {
    const found = await this.lookup(keyRef);
    if (found.status === 'described') return found.arn;
    // The SDK's error rides along as the cause: a dead endpoint is not a bad policy (policy-loader.ts).
    throw new Error(`KMS key ${keyRef} cannot be resolved: ${found.detail}`, { cause: failedLookupCauses.get(found) });
  }

  private async describe(keyRef: string): Promise<KeyLookup> {
    let metadata;
    try {
      ({ KeyMetadata: metadata } = await this.kms.send(new DescribeKeyCommand({ KeyId: keyRef })));
    } catch (error) {
      const { name, message } = errorFacts(error);
      if (name === 'NotFoundException') return { status: 'not-found', arn: keyRef, detail: message };
      if (name === 'AccessDeniedException') return { status: 'access-denied', arn: keyRef, detail: message };
      const failed: KeyLookup = { status: 'error', arn: keyRef, detail: `${name}: ${message}` };
      failedLookupCauses.set(failed, error);
      return failed;
    }
    if (!metadata?.Arn || !metadata.KeyId) return { status: 'error', arn: keyRef, detail: 'DescribeKey returned no key' };
    const state = (KEY_STATES as readonly string[]).includes(metadata.KeyState ?? '')
      ? (metadata.KeyState as KeyState)
      : 'Unavailable';
    const manager = metadata.KeyManager === 'AWS' ? 'AWS' : 'CUSTOMER';
    const described: KeyLookup = {
      status: 'described',
      arn: metadata.Arn,
      keyId: metadata.KeyId,
      accountId: metadata.AWSAccountId ?? metadata.Arn.split(':')[4] ?? '',
      state,
      manager,
      origin: metadata.Origin ?? 'AWS_KMS',
      ...(metadata.DeletionDate ? { deletionDate: metadata.DeletionDate.toISOString() } : {}),
    };
    const aliases = await this.aliases(metadata.Arn);
    const named = aliases ? { aliases } : {};
    // AWS rotates AWS-managed keys itself: asking would cost a call per key and say the same.
    if (manager === 'AWS') return { ...described, rotationEnabled: true, ...named };
    const rotation = await this.rotation(metadata.Arn);
    if ('failed' in rotation) return { status: 'error', arn: metadata.Arn, detail: rotation.failed };
    return { ...described, ...rotation, ...named };
  }

  /**
   * The key's alias names, for people to read (the report shows `alias/finance`, not a key id).
   * Names only: no verdict rests on them, so a failure leaves them unknown (and asks again next
   * time) rather than failing the lookup. ListAliases lists the caller's account's aliases only.
   */
  private aliases(arn: string): Promise<string[] | undefined> {
    const now = this.options.now?.() ?? Date.now();
    const cached = this.aliasCache.get(arn);
    if (cached && cached.expires > now) return cached.aliases;
    const listed = (async () => {
      const names: string[] = [];
      for await (const page of paginateListAliases({ client: this.kms }, { KeyId: arn })) {
        for (const alias of page.Aliases ?? []) if (alias.AliasName) names.push(alias.AliasName);
      }
      return names.sort();
    })().catch(() => {
      if (this.aliasCache.get(arn) === entry) this.aliasCache.delete(arn);
      return undefined;
    });
    // Same lifetime as a lookup: a warm Lambda sees a renamed alias once its entry expires.
    const entry = { aliases: listed, expires: now + (this.options.ttlMs ?? Number.POSITIVE_INFINITY) };
    this.aliasCache.set(arn, entry);
    return listed;
  }

  private async rotation(arn: string): Promise<{ rotationEnabled?: boolean } | { failed: string }> {
    try {
      const { KeyRotationEnabled } = await this.kms.send(new GetKeyRotationStatusCommand({ KeyId: arn }));
      return KeyRotationEnabled === undefined ? {} : { rotationEnabled: KeyRotationEnabled };
    } catch (error) {
      const facts = errorFacts(error);
      // Throttled or failing: a later try tells, so the whole lookup is weather, not "unknown".
      if (facts.transient) return { failed: `GetKeyRotationStatus ${facts.name}: ${facts.message}` };
      // Denied, or a key whose origin or state has no rotation status: unknown, not false.
      return {};
    }
  }
}
