// Key facts across accounts: a key ARN names its account and Region, and KMS is asked there, with
// that account's role when it can be assumed — whether or not the run audits that account's buckets
// (the owner can always describe its own key; the bucket's account needs a key-policy grant it may
// not have). Else the bucket's account asks, as AWS allows with a grant. A key id or alias is the
// bucket account's own. One KmsKeyInspector (one cache) per account and Region: a key shared by twenty
// accounts is described once per run.
import type { KeyLookup } from '../domain/encryption.ts';
import type { KeyInspector } from '../inspect/key-inspector-port.ts';

export interface KeyHome {
  account: string;
  region: string;
}

/** The account and Region a key ARN (or alias ARN) names; undefined for a key id or alias name. */
export function keyHome(keyRef: string): KeyHome | undefined {
  const match = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(key|alias)\//.exec(keyRef);
  return match ? { region: match[1]!, account: match[2]! } : undefined;
}

export class AccountRoutedKeyInspector implements KeyInspector {
  constructor(
    /** Where the objects are: a key id or alias is resolved here. */
    private readonly home: KeyHome,
    /** The inspector of an account and Region (one per pair, shared: one cache). */
    private readonly inspectorFor: (where: KeyHome) => KeyInspector,
    /** Whether the account's role can be assumed (asked once per account). */
    private readonly canReach: (account: string) => Promise<boolean>,
  ) {}

  private inspectors(keyRef: string): { owner?: KeyInspector; home: KeyInspector } {
    const named = keyHome(keyRef);
    const home = this.inspectorFor({ account: this.home.account, region: named?.region ?? this.home.region });
    return named && named.account !== this.home.account ? { owner: this.inspectorFor(named), home } : { home };
  }

  private async route(keyRef: string): Promise<KeyInspector> {
    const { owner, home } = this.inspectors(keyRef);
    return owner && (await this.canReach(keyHome(keyRef)!.account)) ? owner : home;
  }

  async lookup(keyRef: string): Promise<KeyLookup> {
    return (await this.route(keyRef)).lookup(keyRef);
  }

  async arnOf(keyRef: string): Promise<string> {
    return (await this.route(keyRef)).arnOf(keyRef);
  }

  forget(keyRef: string): void {
    const { owner, home } = this.inspectors(keyRef);
    owner?.forget?.(keyRef);
    home.forget?.(keyRef);
  }
}
