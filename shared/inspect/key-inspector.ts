// KMS adapter for key facts. Lookups are cached per process (promise per key reference), so a run
// makes at most one DescribeKey per distinct key however many objects and workers ask at once. A
// long-lived process (a warm Lambda) gives entries a lifetime, so a key disabled since is seen.
//
// Every call about a key goes to the Region its ARN names (an alias ARN too), never the process's:
// asked in another Region, KMS answers NotFoundException for a key that exists, and "not found" is a
// verdict (at-risk). A reference naming no Region (a key id, `alias/NAME`) is asked in the Region the
// caller says (a bucket's, for its default key) or else the process's Region (AWS_REGION).
import { DescribeKeyCommand, GetKeyRotationStatusCommand, paginateListAliases, type KMSClient } from '@aws-sdk/client-kms';
import { kmsRegionOf } from '../aws/arn.ts';
import { errorFacts } from '../aws/errors.ts';
import type { RegionalClients } from '../aws/regional-clients.ts';
import { KEY_STATES, type KeyLookup, type KeyState } from '../domain/encryption.ts';
import type { KeyInspector } from './key-inspector-port.ts';

// Kept here for importers from before the port had its own file.
export type { KeyInspector } from './key-inspector-port.ts';

/** The SDK error behind each failed lookup, kept beside it (the lookup itself is a domain fact). */
const failedLookupCauses = new WeakMap<KeyLookup, unknown>();

/** KMS clients by Region; a single client (a test's fake at the SDK boundary) answers for every Region. */
export type KmsByRegion = Pick<RegionalClients, 'home' | 'kmsFor'>;

export class KmsKeyInspector implements KeyInspector {
  private readonly cache = new Map<string, { lookup: Promise<KeyLookup>; expires: number }>();
  private readonly regional: KmsByRegion | undefined;
  /** Alias names per key ARN: asked once per key, whatever reference (alias, id, ARN) looked it up. */
  private readonly aliasCache = new Map<string, { aliases: Promise<string[] | undefined>; expires: number }>();

  constructor(
    private readonly kms: KMSClient | KmsByRegion,
    private readonly options: { ttlMs?: number; now?: () => number } = {},
  ) {
    this.regional = 'kmsFor' in kms ? kms : undefined;
  }

  /**
   * What KMS says of a key, asked in the Region its ARN names; `region` is where a reference naming
   * none (key id, alias/NAME) is asked (default: the process's Region).
   */
  lookup(keyRef: string, region?: string): Promise<KeyLookup> {
    const cacheKey = this.cacheKey(keyRef, region);
    const now = this.options.now?.() ?? Date.now();
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expires > now) return cached.lookup;
    const lookup = this.describe(keyRef, region);
    const entry = { lookup, expires: now + (this.options.ttlMs ?? Number.POSITIVE_INFINITY) };
    this.cache.set(cacheKey, entry);
    void lookup.then((found) => {
      // A failed lookup (throttled, 5xx, timed out) is weather: the next object asks KMS again.
      if (found.status === 'error' && this.cache.get(cacheKey) === entry) this.cache.delete(cacheKey);
      // Key facts are kept per key ARN too: an alias resolved once answers for its key's ARN.
      if (found.status === 'described' && found.arn !== cacheKey && !this.cache.has(found.arn)) this.cache.set(found.arn, entry);
    });
    return lookup;
  }

  /** The Region a reference is asked in: its ARN's, else the one given, else the process's. */
  regionOf(keyRef: string, region?: string): string | undefined {
    return kmsRegionOf(keyRef) ?? region ?? this.regional?.home;
  }

  private cacheKey(keyRef: string, region?: string): string {
    // An ARN is the same key whoever asks; `alias/aws/s3` is a different key in each Region.
    return kmsRegionOf(keyRef) ? keyRef : `${this.regionOf(keyRef, region) ?? ''}|${keyRef}`;
  }

  private client(keyRef: string, region?: string): KMSClient {
    if (!this.regional) return this.kms as KMSClient;
    return this.regional.kmsFor(this.regionOf(keyRef, region) ?? this.regional.home);
  }

  /** Forgets one key (a key-state event says it changed) or all of them. */
  forget(keyRef?: string, region?: string): void {
    if (!keyRef) {
      this.cache.clear();
      this.aliasCache.clear();
      return;
    }
    const entry = this.cache.get(this.cacheKey(keyRef, region));
    // Forgetting a key forgets every reference that was resolved to it (its ARN and its aliases).
    for (const [cacheKey, cached] of this.cache) if (cached === entry) this.cache.delete(cacheKey);
    this.cache.delete(this.cacheKey(keyRef, region));
    this.aliasCache.delete(keyRef);
  }

  /** The key ARN a reference (alias, alias ARN, key id, key ARN) stands for, or a clear error. */
  async arnOf(keyRef: string, region?: string): Promise<string> {
    const found = await this.lookup(keyRef, region);
    if (found.status === 'described') return found.arn;
    // The SDK's error rides along as the cause: a dead endpoint is not a bad policy (policy-loader.ts).
    const where = this.regionOf(keyRef, region);
    throw new Error(`KMS key ${keyRef} cannot be resolved${where ? ` in ${where}` : ''}: ${found.detail}`, { cause: failedLookupCauses.get(found) });
  }

  private async describe(keyRef: string, region?: string): Promise<KeyLookup> {
    const kms = this.client(keyRef, region);
    let metadata;
    try {
      ({ KeyMetadata: metadata } = await kms.send(new DescribeKeyCommand({ KeyId: keyRef })));
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
    const aliases = await this.aliases(kms, metadata.Arn);
    const named = aliases ? { aliases } : {};
    // AWS rotates AWS-managed keys itself: asking would cost a call per key and say the same.
    if (manager === 'AWS') return { ...described, rotationEnabled: true, ...named };
    const rotation = await this.rotation(kms, metadata.Arn);
    if ('failed' in rotation) return { status: 'error', arn: metadata.Arn, detail: rotation.failed };
    return { ...described, ...rotation, ...named };
  }

  /**
   * The key's alias names, for people to read (the report shows `alias/finance`, not a key id).
   * Names only: no verdict rests on them, so a failure leaves them unknown (and asks again next
   * time) rather than failing the lookup. ListAliases lists the caller's account's aliases only.
   */
  private aliases(kms: KMSClient, arn: string): Promise<string[] | undefined> {
    const now = this.options.now?.() ?? Date.now();
    const cached = this.aliasCache.get(arn);
    if (cached && cached.expires > now) return cached.aliases;
    const listed = (async () => {
      const names: string[] = [];
      for await (const page of paginateListAliases({ client: kms }, { KeyId: arn })) {
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

  private async rotation(kms: KMSClient, arn: string): Promise<{ rotationEnabled?: boolean } | { failed: string }> {
    try {
      const { KeyRotationEnabled } = await kms.send(new GetKeyRotationStatusCommand({ KeyId: arn }));
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
