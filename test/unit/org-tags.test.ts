// Organizations tag filters (`--org-tag KEY=VALUE`, SSEGUARD_ORG_TAGS): every key given must match,
// with one of the values given for it.
import { describe, expect, it } from 'vitest';
import { parseOrgTags, tagsMatch } from '../../shared/domain/org-tags.ts';
import { loadConfig } from '../../shared/config.ts';

describe('Organization tag filters', () => {
  it('KEY=VALUE pairs: values of one key accumulate, the first = splits (a value may hold =), an empty value is a value', () => {
    expect(parseOrgTags(['env=prod', 'env=stage', 'team=data', 'cost=a=b', 'flag='])).toEqual({ env: ['prod', 'stage'], team: ['data'], cost: ['a=b'], flag: [''] });
  });

  it('something that is not KEY=VALUE is refused, naming it', () => {
    for (const bad of ['env', '=prod', `${'k'.repeat(129)}=v`]) expect(() => parseOrgTags([bad]), bad).toThrow(`"${bad}" is not a tag filter KEY=VALUE`);
  });

  it('an account matches when it has every key, each at one of its values', () => {
    const filter = parseOrgTags(['env=prod', 'env=stage', 'team=data']);
    expect(tagsMatch(new Map([['env', 'prod'], ['team', 'data']]), filter)).toBe(true);
    expect(tagsMatch(new Map([['env', 'stage'], ['team', 'data'], ['other', 'x']]), filter)).toBe(true);
    expect(tagsMatch(new Map([['env', 'prod']]), filter)).toBe(false);
    expect(tagsMatch(new Map([['env', 'dev'], ['team', 'data']]), filter)).toBe(false);
    expect(tagsMatch(new Map(), {})).toBe(true);
  });

  it('the configuration reads SSEGUARD_ORG_TAGS only with SSEGUARD_ORGANIZATION_ID, and refuses a malformed one', () => {
    const base = { AWS_REGION: 'us-east-1', SSEGUARD_ORGANIZATION_ID: 'o-a1b2c3d4e5' };
    expect(loadConfig({ ...base, SSEGUARD_ORG_TAGS: 'env=prod, team=data' }).organization?.tags).toEqual({ env: ['prod'], team: ['data'] });
    expect(() => loadConfig({ ...base, SSEGUARD_ORG_TAGS: 'env' })).toThrow('SSEGUARD_ORG_TAGS: "env" is not a tag filter KEY=VALUE');
    expect(() => loadConfig({ ...base, SSEGUARD_ORG_OUS: 'ou-x' })).toThrow(/SSEGUARD_ORG_OUS/);
    expect(() => loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_ORGANIZATION_ID: '123' })).toThrow(/SSEGUARD_ORGANIZATION_ID is not an Organization id/);
    expect(loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_ORG_TAGS: 'env=prod' }).organization).toBeUndefined();
  });
});
