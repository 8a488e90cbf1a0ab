// The clients and key inspectors of every (account, Region) a run or a worker touches, each made
// once: S3 and KMS clients with the account's assumed role (the central account's own credentials
// for itself), one KMS key cache per account and Region.
import { createAccountClients, type ClientOptions } from '../aws/clients.ts';
import { KmsKeyInspector } from '../inspect/key-inspector.ts';
import type { KeyInspector } from '../inspect/key-inspector-port.ts';
import type { AccountCredentials } from './credentials.ts';
import { AccountRoutedKeyInspector, type KeyHome } from './routed-keys.ts';

export interface AccountPoolDependencies {
  credentials: AccountCredentials;
  clientOptions: ClientOptions;
  /** The central account's own id: its clients use the process's credentials, no role assumed. */
  centralAccount?: string;
}

/** The clients and key inspectors of every (account, Region) a run touches, each made once. */
export class AccountClientPool {
  private readonly clients = new Map<string, ReturnType<typeof createAccountClients>>();
  private readonly keyInspectors = new Map<string, KmsKeyInspector>();
  /** Accounts whose role the run holds: a key of one of them is described with its own role. */
  readonly reachable = new Set<string>();

  constructor(readonly deps: AccountPoolDependencies) {}

  clientsFor(account: string, region: string) {
    const id = `${account}/${region}`;
    let clients = this.clients.get(id);
    if (!clients) {
      const own = account === this.deps.centralAccount;
      clients = createAccountClients({ ...this.deps.clientOptions, region, ...(own ? {} : { credentials: this.deps.credentials.provider(account) }) });
      this.clients.set(id, clients);
    }
    return clients;
  }

  private readonly reach = new Map<string, Promise<boolean>>();

  /** Whether an account's role can be assumed: known for the run's accounts, asked once for a key's owner outside it. */
  canReach(account: string): Promise<boolean> {
    if (account === this.deps.centralAccount || this.reachable.has(account)) return Promise.resolve(true);
    let known = this.reach.get(account);
    if (!known) {
      known = this.deps.credentials.assume(account).then(
        () => true,
        () => false,
      );
      this.reach.set(account, known);
    }
    return known;
  }

  /** Marks an account whose role was refused: its keys are asked through the buckets' accounts. */
  unreachable(account: string): void {
    this.reach.set(account, Promise.resolve(false));
  }

  keyInspector(where: KeyHome): KeyInspector {
    const id = `${where.account}/${where.region}`;
    let inspector = this.keyInspectors.get(id);
    if (!inspector) {
      inspector = new KmsKeyInspector(this.clientsFor(where.account, where.region).kms);
      this.keyInspectors.set(id, inspector);
    }
    return inspector;
  }

  /** The key inspector for objects in (account, region): key ARNs go to their own account and Region. */
  routedKeys(home: KeyHome): AccountRoutedKeyInspector {
    return new AccountRoutedKeyInspector(
      home,
      (where) => this.keyInspector(where),
      (account) => this.canReach(account),
    );
  }
}

