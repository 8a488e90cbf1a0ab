// The member-account template, statement by statement: what each evidence tier grants, whom the
// roles trust, and where events go. The template is created on the emulator in
// test/integration/member-template.test.ts.
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memberTemplateCommand } from '../../cli/commands/member-template.ts';
import { runCli } from '../support/cli.ts';
import {
  MEMBER_KEY_EVENT_PATTERN,
  MEMBER_OBJECT_EVENT_PATTERN,
  memberTemplate,
  memberTemplateProblems,
  type MemberTemplateOptions,
  type PolicyStatement,
} from '../../shared/deploy/member-template.ts';
import { KEY_EVENT_PATTERN, iamStatements, s3ServiceName, type IamScope } from '../../stacks/settings.ts';
import { parseMessageBody } from '../../shared/events/audit-queue-messages.ts';

const CENTRAL = '999988887777';
const WORKER_ROLE = `arn:aws:iam::${CENTRAL}:role/sseguard-production-AuditWorkerRole-a1b2c3`;
const SWEEP_ROLE = `arn:aws:iam::${CENTRAL}:role/sseguard-production-SweepRole-d4e5f6`;
const BUS = `arn:aws:events:eu-west-1:${CENTRAL}:event-bus/sseguard-production-central`;
const base: MemberTemplateOptions = { centralAccount: CENTRAL, centralRoleArns: [WORKER_ROLE, SWEEP_ROLE], variant: 'head', remediation: false, eventBusArn: BUS };

const sub = (text: string) => ({ 'Fn::Sub': text });
const OWN_ACCOUNT = { StringEquals: { 's3:ResourceAccount': sub('${AWS::AccountId}') } };
const OWN_KEYS = sub('arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*');
const VIA_S3 = { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } };

type RoleProperties = { RoleName: string; AssumeRolePolicyDocument: { Statement: unknown[] }; Policies: { PolicyDocument: { Statement: PolicyStatement[] } }[] };
const roleOf = (options: MemberTemplateOptions, logicalId: string) => memberTemplate(options).Resources[logicalId]!.Properties as unknown as RoleProperties;
const statementsOf = (options: MemberTemplateOptions, logicalId: string) => roleOf(options, logicalId).Policies.flatMap((p) => p.PolicyDocument.Statement);
const actionsOf = (statements: PolicyStatement[]) => statements.flatMap((s) => s.Action).sort();

describe('member template: the audit role by evidence tier', () => {
  const common: PolicyStatement[] = [
    { Sid: 'ListAllBuckets', Effect: 'Allow', Action: ['s3:ListAllMyBuckets'], Resource: '*' },
    {
      Sid: 'BucketPosture',
      Effect: 'Allow',
      Action: ['s3:GetEncryptionConfiguration', 's3:GetBucketPolicy', 's3:GetInventoryConfiguration', 's3:GetBucketLocation'],
      Resource: sub('arn:${AWS::Partition}:s3:::*'),
      Condition: OWN_ACCOUNT,
    },
    { Sid: 'KeyFacts', Effect: 'Allow', Action: ['kms:DescribeKey', 'kms:GetKeyRotationStatus'], Resource: OWN_KEYS },
    { Sid: 'KeyAliases', Effect: 'Allow', Action: ['kms:ListAliases'], Resource: '*' },
  ];

  it('head: HeadObject needs s3:GetObject (and GetObjectVersion) on the account’s own objects, and object listing', () => {
    expect(statementsOf(base, 'AuditRole')).toEqual([
      ...common,
      { Sid: 'ListObjects', Effect: 'Allow', Action: ['s3:ListBucket', 's3:ListBucketVersions'], Resource: sub('arn:${AWS::Partition}:s3:::*'), Condition: OWN_ACCOUNT },
      { Sid: 'HeadObjects', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: sub('arn:${AWS::Partition}:s3:::*/*'), Condition: OWN_ACCOUNT },
    ]);
  });

  it('inventory: no object read and no listing at all, only the bucket posture and the key facts', () => {
    const statements = statementsOf({ ...base, variant: 'inventory' }, 'AuditRole');
    expect(statements).toEqual(common);
    expect(actionsOf(statements)).not.toContain('s3:GetObject');
    expect(actionsOf(statements)).not.toContain('s3:ListBucket');
  });

  it('inventory with reports delivered in the member account: reads under the report prefix only, never a write', () => {
    const statements = statementsOf({ ...base, variant: 'inventory', reportDestination: 'member-reports/inventory' }, 'AuditRole');
    expect(statements.slice(common.length)).toEqual([
      { Sid: 'ReportDestinationList', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: sub('arn:${AWS::Partition}:s3:::member-reports') },
      { Sid: 'ReportDestinationObjects', Effect: 'Allow', Action: ['s3:GetObject'], Resource: sub('arn:${AWS::Partition}:s3:::member-reports/inventory/*') },
    ]);
  });

  it('metadata tables: s3tables reads of the aws-s3 table bucket, Athena on the primary workgroup, results written under the destination', () => {
    const statements = statementsOf({ ...base, variant: 'inventory', reportDestination: 'member-reports/athena', metadataTable: true }, 'AuditRole');
    expect(statements.slice(common.length)).toEqual([
      { Sid: 'ReportDestinationList', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: sub('arn:${AWS::Partition}:s3:::member-reports') },
      { Sid: 'ReportDestinationObjects', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: sub('arn:${AWS::Partition}:s3:::member-reports/athena/*') },
      {
        Sid: 'MetadataTables',
        Effect: 'Allow',
        Action: ['s3tables:GetTable', 's3tables:GetTableData', 's3tables:GetTableMetadataLocation'],
        Resource: sub('arn:${AWS::Partition}:s3tables:*:${AWS::AccountId}:bucket/aws-s3/table/*'),
      },
      {
        Sid: 'MetadataQueries',
        Effect: 'Allow',
        Action: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
        Resource: sub('arn:${AWS::Partition}:athena:*:${AWS::AccountId}:workgroup/primary'),
      },
    ]);
  });

  it('the audit role never writes: no Put, Delete, Update, Create, Cancel, PassRole or KMS data-key action in any variant', () => {
    for (const options of [base, { ...base, variant: 'inventory' as const }, { ...base, variant: 'inventory' as const, reportDestination: 'member-reports', metadataTable: true }]) {
      const writes = actionsOf(statementsOf(options, 'AuditRole')).filter((a) => /:(Put|Delete|Update|Create|Cancel|PassRole|Decrypt|Encrypt|GenerateDataKey|ReEncrypt)/.test(a));
      // The one write: Athena's results of the metadata tier, under the destination prefix.
      expect(writes).toEqual(options.metadataTable ? ['s3:PutObject'] : []);
    }
  });
});

describe('member template: Security Hub import as the member (central SSEGUARD_SECURITY_HUB=on)', () => {
  it('--security-hub: the audit role may BatchImportFindings on its own account\'s default product only, in any Region; without it no securityhub action at all', () => {
    const hub = statementsOf({ ...base, securityHub: true }, 'AuditRole').filter((s) => s.Action.some((a) => a.startsWith('securityhub:')));
    expect(hub).toEqual([
      {
        Sid: 'ImportOwnFindings',
        Effect: 'Allow',
        Action: ['securityhub:BatchImportFindings'],
        Resource: sub('arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:product/${AWS::AccountId}/default'),
      },
    ]);
    expect(actionsOf(statementsOf(base, 'AuditRole')).filter((a) => a.startsWith('securityhub:'))).toEqual([]);
  });

  it('the member-template command writes it with the option on', () => {
    let text = '';
    expect(memberTemplateCommand({ ...base, securityHub: true }, { out: (t) => (text = t), err: () => {} })).toBe(0);
    expect(text).toContain('securityhub:BatchImportFindings');
  });
});

describe('member template: trust', () => {
  it('the audit role trusts exactly the central functions’ role ARNs', () => {
    expect(roleOf(base, 'AuditRole').AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: [WORKER_ROLE, SWEEP_ROLE] }, Action: 'sts:AssumeRole' }],
    });
  });

  it('with an external id, sts:AssumeRole needs it', () => {
    expect(roleOf({ ...base, externalId: 'o-abc123-sseguard' }, 'AuditRole').AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { AWS: [WORKER_ROLE, SWEEP_ROLE] }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'o-abc123-sseguard' } } },
    ]);
  });

  it('with only the central account, only its sseguard-* roles (by aws:PrincipalArn), never the whole account', () => {
    const { centralRoleArns: _, ...rest } = base;
    expect(roleOf({ ...rest, centralRoleArns: [] }, 'AuditRole').AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { AWS: sub(`arn:\${AWS::Partition}:iam::${CENTRAL}:root`) },
        Action: 'sts:AssumeRole',
        Condition: { ArnLike: { 'aws:PrincipalArn': sub(`arn:\${AWS::Partition}:iam::${CENTRAL}:role/sseguard-*`) } },
      },
    ]);
  });

  it('refuses options that would trust the wrong principals or forward to the wrong bus, naming the flag', () => {
    expect(memberTemplateProblems({ ...base, centralAccount: undefined, centralRoleArns: [] })).toEqual([
      '--central-role-arn (or at least --central-account) is required: the roles trust only the central functions',
    ]);
    expect(memberTemplateProblems({ ...base, centralRoleArns: ['arn:aws:iam::111122223333:role/other'] })).toEqual([
      `--central-role-arn: "arn:aws:iam::111122223333:role/other" is not in the central account ${CENTRAL}`,
    ]);
    expect(memberTemplateProblems({ ...base, centralRoleArns: ['arn:aws:iam::999988887777:user/alice'] })[0]).toMatch(/is not an IAM role ARN/);
    expect(memberTemplateProblems({ ...base, eventBusArn: 'arn:aws:events:eu-west-1:111122223333:event-bus/x' })[0]).toMatch(/^--event-bus-arn: .* is not in the central account/);
    expect(memberTemplateProblems({ ...base, eventBusArn: 'central' })[0]).toMatch(/^--event-bus-arn: "central" is not an EventBridge event bus ARN/);
    expect(memberTemplateProblems({ ...base, metadataTable: true })).toEqual([
      '--metadata-table is a read of the inventory variant: add --variant inventory',
      '--metadata-table needs --report-destination: where Athena writes its results',
    ]);
    expect(() => memberTemplate({ ...base, centralAccount: '12' })).toThrow(/--central-account: "12" is not a 12-digit account id/);
  });
});

describe('member template: remediation is opt-in', () => {
  it('without --remediation there is no remediation or Batch role, and no statement anywhere can write objects', () => {
    const template = memberTemplate(base);
    expect(Object.keys(template.Resources)).toEqual(['AuditRole', 'EventForwardingRole', 'ObjectEventsRule', 'KeyStateEventsRule']);
    expect(Object.keys(template.Outputs)).toEqual(['AuditRoleArn']);
  });

  it('the remediation role: the worker’s fix and copy actions on own objects, source keys and target keys through S3 only, Batch with PassRole of the Batch role only', () => {
    const options = { ...base, remediation: true };
    expect(statementsOf(options, 'RemediationRole')).toEqual([
      {
        Sid: 'ObjectsFix',
        Effect: 'Allow',
        Action: [
          's3:GetObject',
          's3:GetObjectVersion',
          's3:GetObjectAcl',
          's3:GetObjectVersionAcl',
          's3:GetObjectTagging',
          's3:GetObjectVersionTagging',
          's3:PutObject',
          's3:PutObjectAcl',
          's3:PutObjectTagging',
          's3:PutObjectRetention',
          's3:PutObjectLegalHold',
          's3:AbortMultipartUpload',
          's3:UpdateObjectEncryption',
        ],
        Resource: sub('arn:${AWS::Partition}:s3:::*/*'),
        Condition: OWN_ACCOUNT,
      },
      { Sid: 'Buckets', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: sub('arn:${AWS::Partition}:s3:::*'), Condition: OWN_ACCOUNT },
      { Sid: 'DecryptSourceViaS3', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:ReEncryptFrom'], Resource: '*', Condition: VIA_S3 },
      { Sid: 'EncryptTargetViaS3', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:ReEncryptTo'], Resource: OWN_KEYS, Condition: VIA_S3 },
      { Sid: 'KeyFacts', Effect: 'Allow', Action: ['kms:DescribeKey', 'kms:GetKeyRotationStatus'], Resource: OWN_KEYS },
      { Sid: 'CreateBatchJobs', Effect: 'Allow', Action: ['s3:CreateJob'], Resource: '*' },
      { Sid: 'DescribeBatchJobs', Effect: 'Allow', Action: ['s3:DescribeJob'], Resource: sub('arn:${AWS::Partition}:s3:*:${AWS::AccountId}:job/*') },
      {
        Sid: 'PassBatchRole',
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/sseguard-batch-operations'),
        Condition: { StringEquals: { 'iam:PassedToService': 'batchoperations.s3.amazonaws.com' } },
      },
    ]);
    expect(roleOf(options, 'RemediationRole').AssumeRolePolicyDocument).toEqual(roleOf(options, 'AuditRole').AssumeRolePolicyDocument);
  });

  it('the remediation role’s object and KMS actions are the central worker’s (stacks/settings.ts): the same code fixes in both', () => {
    const scope = { objects: ['o'], buckets: ['b'], auditKeys: ['k'], targetKeys: ['t'] } as unknown as IamScope<string>;
    const worker = iamStatements('auditWorker', { ...scope, findingsTable: [], idempotencyTable: [], auditQueue: [], deadLetterQueue: [], inventoryDestinations: [], inventoryReports: [] }, s3ServiceName('eu-west-1'));
    const workerActions = (sid: string) => worker.find((s) => s.sid === sid)!.actions;
    const member = statementsOf({ ...base, remediation: true }, 'RemediationRole');
    const memberActions = (sid: string) => member.find((s) => s.Sid === sid)!.Action;
    for (const sid of ['ObjectsFix', 'DecryptSourceViaS3', 'EncryptTargetViaS3']) expect(memberActions(sid)).toEqual(workerActions(sid));
  });

  it('the Batch Operations role is assumable by S3 Batch Operations of the same account only', () => {
    const batch = roleOf({ ...base, remediation: true }, 'BatchOperationsRole');
    expect(batch.RoleName).toBe('sseguard-batch-operations');
    expect(batch.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'batchoperations.s3.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': sub('${AWS::AccountId}') } } },
    ]);
    expect(actionsOf(statementsOf({ ...base, remediation: true }, 'BatchOperationsRole'))).toEqual(
      ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 's3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:UpdateObjectEncryption'],
    );
  });
});

describe('member template: event forwarding', () => {
  const template = memberTemplate(base);
  const forwardingRoleArn = { 'Fn::If': ['CreateRoles', { 'Fn::GetAtt': ['EventForwardingRole', 'Arn'] }, sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/sseguard-event-forwarding')] };

  it('S3 Object Created and Object Deleted go to the central bus through the forwarding role', () => {
    expect(template.Resources.ObjectEventsRule).toEqual({
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: 'sseguard-object-events',
        Description: 'S3 Object Created/Deleted (EventBridge-enabled buckets) to the sseguard central bus',
        State: 'ENABLED',
        EventPattern: { source: ['aws.s3'], 'detail-type': ['Object Created', 'Object Deleted'] },
        Targets: [{ Id: 'CentralBus', Arn: BUS, RoleArn: forwardingRoleArn }],
      },
    });
  });

  it('KMS key-state calls go to the central bus with the same pattern the central key-event rule matches', () => {
    expect(MEMBER_KEY_EVENT_PATTERN).toEqual(KEY_EVENT_PATTERN);
    expect(MEMBER_KEY_EVENT_PATTERN.detail.eventName).toEqual(['DisableKey', 'EnableKey', 'ScheduleKeyDeletion', 'CancelKeyDeletion']);
    expect(template.Resources.KeyStateEventsRule!.Properties).toMatchObject({ EventPattern: KEY_EVENT_PATTERN, Targets: [{ Id: 'CentralBus', Arn: BUS, RoleArn: forwardingRoleArn }] });
  });

  it('the forwarding role: events.amazonaws.com of this account only, events:PutEvents on the central bus only', () => {
    expect(roleOf(base, 'EventForwardingRole').AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': sub('${AWS::AccountId}') } } },
    ]);
    expect(statementsOf(base, 'EventForwardingRole')).toEqual([{ Sid: 'PutEventsOnCentralBus', Effect: 'Allow', Action: ['events:PutEvents'], Resource: BUS }]);
  });

  it('every detail-type the member rule forwards is one the worker audits', () => {
    for (const detailType of MEMBER_OBJECT_EVENT_PATTERN['detail-type']) {
      const event = { version: '0', id: 'e', 'detail-type': detailType, source: 'aws.s3', account: '111122223333', time: '2026-12-04T12:00:00Z', region: 'eu-west-1', resources: [], detail: { bucket: { name: 'member-data' }, object: { key: 'a.txt' } } };
      expect(parseMessageBody(JSON.stringify(event)).kind).toBe('audit');
    }
  });

  it('IAM resources only in the PrimaryRegion (IAM is global), rules in every Region', () => {
    expect(template.Conditions).toEqual({ CreateRoles: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'PrimaryRegion' }] } });
    for (const [id, resource] of Object.entries(template.Resources)) {
      expect(resource.Condition, id).toBe(resource.Type === 'AWS::IAM::Role' ? 'CreateRoles' : undefined);
    }
  });
});

describe('sseguard member-template', () => {
  it('writes YAML for a .yaml file, says the management account needs its own stack, exit 0', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'member-template-')), 'member.yaml');
    const err: string[] = [];
    expect(memberTemplateCommand({ ...base, remediation: true, out }, { out: () => {}, err: (line) => err.push(line) })).toBe(0);
    const yaml = readFileSync(out, 'utf8');
    // As CloudFormation reads it: YAML 1.1 (where an unquoted 2010-09-09 is a date), no anchors or aliases.
    expect(parseYaml(yaml, { version: '1.1' })).toEqual(memberTemplate({ ...base, remediation: true }));
    expect(yaml).not.toMatch(/[&*][a-z]+\d+\b/);
    expect(err.join('\n')).toMatch(/StackSets never deploy to the management account/);
  });

  it('prints JSON on stdout; bad options are exit 2 with the flag named and nothing printed', () => {
    let printed = '';
    expect(memberTemplateCommand(base, { out: (text) => (printed += text), err: () => {} })).toBe(0);
    expect(JSON.parse(printed)).toEqual(memberTemplate(base));
    const err: string[] = [];
    printed = '';
    expect(memberTemplateCommand({ ...base, eventBusArn: 'nope' }, { out: (text) => (printed += text), err: (line) => err.push(line) })).toBe(2);
    expect(printed).toBe('');
    expect(err).toEqual(['sseguard member-template: --event-bus-arn: "nope" is not an EventBridge event bus ARN (the central stage\'s eventBus output)']);
  });

  it('as a user runs it: several --central-role-arn, --variant, --remediation, --external-id reach the template; a bad --variant is a usage error', async () => {
    const args = ['member-template', '--central-account', CENTRAL, '--central-role-arn', WORKER_ROLE, SWEEP_ROLE, '--external-id', 'x-1', '--variant', 'inventory', '--remediation', '--event-bus-arn', BUS];
    const run = await runCli(args);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(memberTemplate({ ...base, externalId: 'x-1', variant: 'inventory', remediation: true }));
    expect(run.stderr).toMatch(/management account/);
    const bad = await runCli(['member-template', '--central-role-arn', WORKER_ROLE, '--event-bus-arn', BUS, '--variant', 'tail']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--variant/);
  }, 60_000);
});
