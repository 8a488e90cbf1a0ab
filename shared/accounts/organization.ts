// The accounts of an AWS Organization a run covers: ACTIVE accounts only, from the management
// account or a delegated administrator; under given OUs (recursively) when asked; minus exclusions;
// with tags (ListTagsForResource, one call per account left after the other filters) when asked.
import {
  ListAccountsForParentCommand,
  ListAccountsCommand,
  ListOrganizationalUnitsForParentCommand,
  ListTagsForResourceCommand,
  type Account,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { tagsMatch, type OrgTagFilter } from '../domain/org-tags.ts';

export { parseOrgTags, tagsMatch, type OrgTagFilter } from '../domain/org-tags.ts';

export interface OrgAccount {
  id: string;
  name?: string;
  email?: string;
}

export interface OrgScope {
  /** Only accounts under these OUs (or roots), at any depth. */
  ous?: string[];
  exclude?: string[];
  /** Only accounts whose Organizations tags match: every key named, with one of its values. */
  tags?: OrgTagFilter;
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

/** An account's Organizations tags (ListTagsForResource, paginated). */
export async function accountTags(client: OrganizationsClient, account: string): Promise<Map<string, string>> {
  const tags = await pages(async (token) => {
    const answer = await client.send(new ListTagsForResourceCommand({ ResourceId: account, NextToken: token }));
    return { items: answer.Tags ?? [], next: answer.NextToken };
  });
  return new Map(tags.flatMap((t) => (t.Key === undefined ? [] : [[t.Key, t.Value ?? ''] as [string, string]])));
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
  const inScope = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  const filter = scope.tags;
  if (!filter || Object.keys(filter).length === 0) return inScope;
  // One account at a time: Organizations' request rate is per Organization, and a thousand
  // concurrent ListTagsForResource would only be throttled (the client retries a throttled call).
  const matching: OrgAccount[] = [];
  for (const account of inScope) if (tagsMatch(await accountTags(client, account.id), filter)) matching.push(account);
  return matching;
}
