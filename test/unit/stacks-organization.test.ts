// The central stage of an Organization (stacks/settings.ts, stacks/organization.ts), without the
// SST runtime: which settings turn it on, who may put events on the central bus, which member
// roles each function may assume.
import { describe, expect, it } from 'vitest';
import { MEMBER_OBJECT_EVENT_PATTERN, MEMBER_ROLE_NAMES } from '../../shared/deploy/member-template.ts';
import {
  CENTRAL_OBJECT_EVENT_PATTERN,
  centralBusName,
  centralBusPolicyStatements,
  functionEnvironment,
  iamStatements,
  memberRoleScope,
  s3ServiceName,
  stageSettings,
  type FunctionName,
  type IamScope,
} from '../../stacks/settings.ts';
import { loadConfig } from '../../shared/config.ts';

const ORG = 'o-a1b2c3d4e5';
const iamArn = (resource: string) => `arn:aws:iam::*:${resource}`;
const emptyScope: IamScope<string> = {
  buckets: ['arn:aws:s3:::data'],
  objects: ['arn:aws:s3:::data/*'],
  findingsTable: ['t'],
  idempotencyTable: ['i'],
  auditQueue: ['q'],
  deadLetterQueue: ['d'],
  auditKeys: ['k'],
  targetKeys: [],
  inventoryDestinations: [],
  inventoryReports: [],
};

describe('stacks: the Organization stage settings', () => {
  it('SSEGUARD_ORGANIZATION_ID turns it on, with the member template’s role names by default', () => {
    expect(stageSettings('production', { SSEGUARD_ORGANIZATION_ID: ORG }).organization).toEqual({
      id: ORG,
      auditRoleName: MEMBER_ROLE_NAMES.audit,
      remediationRoleName: MEMBER_ROLE_NAMES.remediation,
      sweep: { ous: [], exclude: [], tags: [], buckets: [] },
    });
    expect(stageSettings('production', { SSEGUARD_ORGANIZATION_ID: ORG, SSEGUARD_MEMBER_ROLE_NAME: 'audit-ro', SSEGUARD_MEMBER_REMEDIATION_ROLE_NAME: 'fixer' }).organization).toMatchObject({
      auditRoleName: 'audit-ro',
      remediationRoleName: 'fixer',
    });
    expect(stageSettings('production').organization).toBeUndefined();
  });

  it('a central stage may monitor no bucket of its own; a malformed id or role name is refused by name', () => {
    expect(stageSettings('production', { SSEGUARD_CREATE_BUCKETS: '', SSEGUARD_ORGANIZATION_ID: ORG }).createdBuckets).toEqual([]);
    expect(() => stageSettings('production', { SSEGUARD_CREATE_BUCKETS: '' })).toThrow(/no bucket to monitor/);
    expect(() => stageSettings('production', { SSEGUARD_ORGANIZATION_ID: '123456789012' })).toThrow('SSEGUARD_ORGANIZATION_ID: "123456789012" is not an Organization id (o-…)');
    expect(() => stageSettings('production', { SSEGUARD_ORGANIZATION_ID: ORG, SSEGUARD_MEMBER_ROLE_NAME: 'a role' })).toThrow('SSEGUARD_MEMBER_ROLE_NAME: "a role" is not an IAM role name');
  });
});

describe('stacks: the scheduled Organization sweep', () => {
  const env = {
    SSEGUARD_ORGANIZATION_ID: ORG,
    SSEGUARD_ORG_OUS: 'ou-ab12-cdef3456, r-ab12',
    SSEGUARD_ORG_EXCLUDE: '111122223333',
    SSEGUARD_ORG_TAGS: 'env=prod,team=data',
    SSEGUARD_ORG_BUCKETS: 'data-*,!data-tmp-*',
  };

  it('its settings (as scan --org takes them) reach every function as the configuration reads them', () => {
    const stage = stageSettings('production', env);
    expect(stage.organization?.sweep).toEqual({ ous: ['ou-ab12-cdef3456', 'r-ab12'], exclude: ['111122223333'], tags: ['env=prod', 'team=data'], buckets: ['data-*', '!data-tmp-*'] });
    const environment = functionEnvironment(stage, '');
    expect(environment).toMatchObject({ SSEGUARD_ORGANIZATION_ID: ORG, SSEGUARD_ORG_OUS: 'ou-ab12-cdef3456,r-ab12', SSEGUARD_ORG_TAGS: 'env=prod,team=data' });
    const config = loadConfig({ AWS_REGION: 'eu-west-1', ...(environment as Record<string, string>) });
    expect(config.organization).toEqual({
      id: ORG,
      ous: ['ou-ab12-cdef3456', 'r-ab12'],
      exclude: ['111122223333'],
      tags: { env: ['prod'], team: ['data'] },
      buckets: ['data-*', '!data-tmp-*'],
    });
    expect(loadConfig({ AWS_REGION: 'eu-west-1', ...(functionEnvironment(stageSettings('production'), '') as Record<string, string>) }).organization).toBeUndefined();
  });

  it('a malformed OU, account or tag filter is refused by name at deploy time', () => {
    expect(() => stageSettings('production', { ...env, SSEGUARD_ORG_OUS: 'ou-nope' })).toThrow('SSEGUARD_ORG_OUS: "ou-nope" is not an OU id');
    expect(() => stageSettings('production', { ...env, SSEGUARD_ORG_EXCLUDE: '12' })).toThrow('SSEGUARD_ORG_EXCLUDE: "12" is not a 12-digit account id');
    expect(() => stageSettings('production', { ...env, SSEGUARD_ORG_TAGS: 'env' })).toThrow('SSEGUARD_ORG_TAGS: "env" is not a tag filter KEY=VALUE');
  });

  it('the sweep may list the Organization (its roots, OUs and accounts); no other function may', () => {
    const scope = { ...emptyScope, ...memberRoleScope(stageSettings('production', env), iamArn, (resource) => `arn:aws:organizations::*:${resource}`) };
    const organizations = (fn: FunctionName) => iamStatements(fn, scope, s3ServiceName('eu-west-1')).filter((s) => s.actions.some((a) => a.startsWith('organizations:')));
    expect(organizations('sweep').flatMap((s) => s.resources)).toEqual([
      '*',
      `arn:aws:organizations::*:root/${ORG}/*`,
      `arn:aws:organizations::*:ou/${ORG}/*`,
      `arn:aws:organizations::*:account/${ORG}/*`,
    ]);
    for (const fn of ['auditWorker', 'keyEvents', 'reportApi'] as const) expect(organizations(fn), fn).toEqual([]);
  });
});

describe('stacks: the central bus', () => {
  it('admits events:PutEvents from principals of the Organization only', () => {
    expect(centralBusPolicyStatements('arn:aws:events:eu-west-1:999988887777:event-bus/sseguard-production-central', ORG)).toEqual([
      {
        sid: 'OrganizationPutEvents',
        actions: ['events:PutEvents'],
        resources: ['arn:aws:events:eu-west-1:999988887777:event-bus/sseguard-production-central'],
        principals: [{ type: 'AWS', identifiers: ['*'] }],
        conditions: [{ test: 'StringEquals', variable: 'aws:PrincipalOrgID', values: [ORG] }],
      },
    ]);
  });

  it('its rule to the audit queue matches exactly what member rules forward; its name is per stage', () => {
    expect(CENTRAL_OBJECT_EVENT_PATTERN).toEqual(MEMBER_OBJECT_EVENT_PATTERN);
    expect(centralBusName('production')).toBe('sseguard-production-central');
  });
});

describe('stacks: member roles each function may assume', () => {
  const scope: IamScope<string> = { ...emptyScope, ...memberRoleScope(stageSettings('production', { SSEGUARD_ORGANIZATION_ID: ORG }), iamArn) };
  const assume = (fn: FunctionName, s: IamScope<string> = scope) => iamStatements(fn, s, s3ServiceName('eu-west-1')).filter((st) => st.actions.includes('sts:AssumeRole'));
  const inOrg = [{ test: 'StringEquals', variable: 'aws:ResourceOrgID', values: [ORG] }];

  it('the worker: the audit role, by name in any account, within the Organization only (it never fixes member objects)', () => {
    expect(assume('auditWorker')).toEqual([{ sid: 'AssumeMemberRoles', actions: ['sts:AssumeRole'], resources: ['arn:aws:iam::*:role/sseguard-audit'], conditions: inOrg }]);
  });

  it('outbox delivery with Security Hub on: the audit role, in the Organization only (a member\'s findings are imported as the member); with Security Hub off none', () => {
    const withHub = { ...scope, securityHubProduct: ['arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default'] };
    expect(assume('outboxDelivery', withHub)).toEqual([{ sid: 'AssumeMemberRoles', actions: ['sts:AssumeRole'], resources: ['arn:aws:iam::*:role/sseguard-audit'], conditions: inOrg }]);
    expect(assume('outboxDelivery', { ...scope, eventBus: ['arn:aws:events:eu-west-1:111122223333:event-bus/alerts'] })).toEqual([]);
    expect(assume('outboxDelivery', { ...emptyScope, securityHubProduct: withHub.securityHubProduct })).toEqual([]);
  });

  it('the sweep, key events and the report API assume no role (they send no AssumeRole)', () => {
    for (const fn of ['sweep', 'keyEvents', 'reportApi'] as const) expect(assume(fn)).toEqual([]);
  });

  it('without an Organization no function may assume any role', () => {
    expect(memberRoleScope(stageSettings('production'), iamArn)).toEqual({});
    for (const fn of ['auditWorker', 'sweep', 'keyEvents', 'reportApi'] as const) expect(assume(fn, emptyScope)).toEqual([]);
  });
});
