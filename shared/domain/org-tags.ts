// Organizations tag filters (`--org-tag KEY=VALUE`, SSEGUARD_ORG_TAGS): pure, so the configuration
// can parse them without bringing the Organizations client along.

/** Tag key → the values accepted for it (`--org-tag env=prod --org-tag env=stage --org-tag team=data`). */
export type OrgTagFilter = Record<string, string[]>;

/**
 * `KEY=VALUE` pairs (repeatable flag, or a comma-separated setting) as a filter: an account matches
 * when it has every KEY, each with one of the VALUEs given for it. Tag keys and values are AWS's
 * (keys 1–128, values 0–256 characters); the first `=` splits, so a value may hold `=`.
 */
export function parseOrgTags(pairs: readonly string[]): OrgTagFilter {
  const filter: OrgTagFilter = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const key = at < 0 ? '' : pair.slice(0, at).trim();
    const value = at < 0 ? '' : pair.slice(at + 1).trim();
    if (!key || key.length > 128 || value.length > 256) throw new Error(`"${pair}" is not a tag filter KEY=VALUE`);
    filter[key] = [...new Set([...(filter[key] ?? []), value])];
  }
  return filter;
}

/** Whether an account's tags match the filter (every key, one of its values). */
export const tagsMatch = (tags: ReadonlyMap<string, string>, filter: OrgTagFilter): boolean =>
  Object.entries(filter).every(([key, values]) => tags.has(key) && values.includes(tags.get(key)!));

