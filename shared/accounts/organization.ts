// The accounts of an AWS Organization a run covers: ACTIVE accounts only, from the management
// account or a delegated administrator; under given OUs (recursively) when asked; minus exclusions.
import {
  ListAccountsForParentCommand,
  ListAccountsCommand,
  ListOrganizationalUnitsForParentCommand,
  type Account,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';

export interface OrgAccount {
  id: string;
  name?: string;
  email?: string;
}

export interface OrgScope {
  /** Only accounts under these OUs (or roots), at any depth. */
  ous?: string[];
  exclude?: string[];
}

async function pages<T>(fetch: (token: string | undefined) => Promise<{ items: T[]; next?: string | undefined }>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetch(token);
    all.push(...page.items);
    token = page.next;
  } while (token);
  return all;
}

const active = (accounts: Account[]): OrgAccount[] =>
  accounts
    // Status is deprecated in favour of State; an answer may carry either.
    .filter((a) => a.Id && (a.State ? a.State === 'ACTIVE' : a.Status === 'ACTIVE'))
    .map((a) => ({ id: a.Id!, ...(a.Name ? { name: a.Name } : {}), ...(a.Email ? { email: a.Email } : {}) }));

async function accountsUnder(client: OrganizationsClient, parentId: string): Promise<Account[]> {
  const direct = await pages(async (token) => {
    const answer = await client.send(new ListAccountsForParentCommand({ ParentId: parentId, NextToken: token }));
    return { items: answer.Accounts ?? [], next: answer.NextToken };
  });
  const children = await pages(async (token) => {
    const answer = await client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: parentId, NextToken: token }));
    return { items: answer.OrganizationalUnits ?? [], next: answer.NextToken };
  });
  const nested = await Promise.all(children.map((ou) => accountsUnder(client, ou.Id!)));
  return [...direct, ...nested.flat()];
}

/** The ACTIVE accounts in scope, sorted by id, each once. */
export async function organizationAccounts(client: OrganizationsClient, scope: OrgScope = {}): Promise<OrgAccount[]> {
  const listed =
    scope.ous && scope.ous.length > 0
      ? (await Promise.all(scope.ous.map((ou) => accountsUnder(client, ou)))).flat()
      : await pages(async (token) => {
          const answer = await client.send(new ListAccountsCommand({ NextToken: token }));
          return { items: answer.Accounts ?? [], next: answer.NextToken };
        });
  const excluded = new Set(scope.exclude ?? []);
  const byId = new Map(active(listed).filter((a) => !excluded.has(a.id)).map((a) => [a.id, a]));
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}
