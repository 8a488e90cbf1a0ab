// The CloudFormation template a service-managed StackSet deploys into every member account of an
// Organization: roles and rules only, nothing that runs or bills there. A pure function of its
// options; `sseguard member-template` prints it, test/unit/member-template.test.ts asserts every
// statement, test/integration/member-template.test.ts creates it on the emulator.
//
//   resource                 created in        what for
//   AuditRole                primary Region    read-only evidence for the central functions
//   RemediationRole          primary Region    opt-in (--remediation): fixes in place or by copy
//   BatchOperationsRole      primary Region    opt-in: the role S3 Batch Operations assumes
//   EventForwardingRole      primary Region    lets EventBridge put events on the central bus
//   ObjectEventsRule         every Region      S3 "Object Created"/"Object Deleted" → central bus
//   KeyStateEventsRule       every Region      CloudTrail KMS key-state calls → central bus
//
// IAM is global: a StackSet that deploys to several Regions creates the roles once, in the Region
// named by the PrimaryRegion parameter, and the rules in every Region (each rule names the
// forwarding role by its fixed ARN).
//
// Least privilege by evidence tier (the README's permissions table says why for each):
//   head       HeadObject per object: s3:GetObject/GetObjectVersion on the account's own objects
//   inventory  S3 Inventory reports or S3 Metadata tables: no object read at all; the report
//              destination (when it is in the member account) and the metadata table reads
import { KEY_STATE_CALLS } from '../events/key-events.ts';

export const MEMBER_ROLE_NAMES = {
  audit: 'sseguard-audit',
  remediation: 'sseguard-remediation',
  batchOperations: 'sseguard-batch-operations',
  eventForwarding: 'sseguard-event-forwarding',
} as const;

export type EvidenceVariant = 'head' | 'inventory';

export interface MemberTemplateOptions {
  /** The central account: trusted by name pattern when no role ARNs are given (see trustPolicy). */
  centralAccount?: string;
  /** The central functions' role ARNs: the only principals the member roles trust. */
  centralRoleArns: string[];
  externalId?: string;
  variant: EvidenceVariant;
  remediation: boolean;
  /** The central stage's event bus (its `eventBus` output). */
  eventBusArn: string;
  /** `bucket[/prefix]` where inventory reports or Athena results land, when in the member account. */
  reportDestination?: string;
  /** The S3 Metadata tier: reads of the account's `aws-s3` table bucket and Athena queries. */
  metadataTable?: boolean;
  /**
   * The central stage imports findings into Security Hub (SSEGUARD_SECURITY_HUB=on): the audit role
   * may BatchImportFindings under the account's own default product (Security Hub takes a finding
   * there only from its own account), in any Region its buckets are in.
   */
  securityHub?: boolean;
}

type PolicyValue = string | { [key: string]: unknown };
export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: PolicyValue | PolicyValue[];
  Condition?: Record<string, Record<string, PolicyValue | PolicyValue[]>>;
}
interface Resource {
  Type: string;
  Condition?: string;
  Properties: Record<string, unknown>;
}
export interface CloudFormationTemplate {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Parameters: Record<string, { Type: string; Default?: string; Description: string }>;
  Conditions: Record<string, unknown>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Condition?: string; Description: string; Value: unknown }>;
}

/** `arn:${AWS::Partition}:…` with the member's own account and Region filled in by CloudFormation. */
const sub = (text: string) => ({ 'Fn::Sub': text });
const OWN_ACCOUNT = { StringEquals: { 's3:ResourceAccount': sub('${AWS::AccountId}') } };
/** KMS data-key actions only when S3 asks on the caller's behalf, in any Region. */
const VIA_S3 = { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } };
const ALL_BUCKETS = sub('arn:${AWS::Partition}:s3:::*');
const ALL_OBJECTS = sub('arn:${AWS::Partition}:s3:::*/*');
const OWN_KEYS = sub('arn:${AWS::Partition}:kms:*:${AWS::AccountId}:key/*');

/** The actions HeadObject needs (with a VersionId: the version's). */
export const OBJECT_READ = ['s3:GetObject', 's3:GetObjectVersion'];
/** The worker's in-place fix and its copy fallback: the central worker's role (stacks/settings.ts) and the member remediation role grant this one list. */
export const OBJECT_FIX = [
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
];

/** S3 object events forwarded to the central bus (buckets with EventBridge notifications on). */
export const MEMBER_OBJECT_EVENT_PATTERN = {
  source: ['aws.s3'],
  'detail-type': ['Object Created', 'Object Deleted'],
};
/** CloudTrail's record of the KMS calls that change whether a key can decrypt. */
export const MEMBER_KEY_EVENT_PATTERN = {
  source: ['aws.kms'],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: { eventSource: ['kms.amazonaws.com'], eventName: [...KEY_STATE_CALLS] },
};

const ACCOUNT_ID = /^\d{12}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;
const BUS_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:(\d{12}):event-bus\/[\w.\-/]+$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Problems with the options, each naming the flag; empty when the template can be built. */
export function memberTemplateProblems(options: MemberTemplateOptions): string[] {
  const problems: string[] = [];
  const { centralAccount, centralRoleArns, externalId, eventBusArn } = options;
  if (centralAccount !== undefined && !ACCOUNT_ID.test(centralAccount)) problems.push(`--central-account: "${centralAccount}" is not a 12-digit account id`);
  if (centralRoleArns.length === 0 && centralAccount === undefined) problems.push('--central-role-arn (or at least --central-account) is required: the roles trust only the central functions');
  for (const arn of centralRoleArns) {
    const match = ROLE_ARN.exec(arn);
    if (!match) problems.push(`--central-role-arn: "${arn}" is not an IAM role ARN`);
    else if (centralAccount !== undefined && match[1] !== centralAccount) problems.push(`--central-role-arn: "${arn}" is not in the central account ${centralAccount}`);
  }
  if (externalId !== undefined && !EXTERNAL_ID.test(externalId)) problems.push('--external-id: 2-1224 characters of letters, digits and +=,.@:/-');
  const bus = BUS_ARN.exec(eventBusArn);
  if (!bus) problems.push(`--event-bus-arn: "${eventBusArn}" is not an EventBridge event bus ARN (the central stage's eventBus output)`);
  else if (centralAccount !== undefined && bus[1] !== centralAccount) problems.push(`--event-bus-arn: "${eventBusArn}" is not in the central account ${centralAccount}`);
  if (options.reportDestination !== undefined && !BUCKET_NAME.test(splitDestination(options.reportDestination).bucket)) {
    problems.push(`--report-destination: "${options.reportDestination}" is not bucket[/prefix]`);
  }
  if (options.metadataTable && options.variant !== 'inventory') problems.push('--metadata-table is a read of the inventory variant: add --variant inventory');
  if (options.metadataTable && options.reportDestination === undefined) problems.push('--metadata-table needs --report-destination: where Athena writes its results');
  return problems;
}

function splitDestination(destination: string): { bucket: string; prefix: string } {
  const [bucket = '', ...rest] = destination.replace(/^s3:\/\//, '').split('/');
  return { bucket, prefix: rest.join('/').replace(/^\/+|\/+$/g, '') };
}

/**
 * Who may assume the member roles: exactly the central functions' roles; with only the central
 * account, that account's roles named `sseguard-*` (the SST app's role names), nothing else there.
 */
export function trustPolicy(options: Pick<MemberTemplateOptions, 'centralAccount' | 'centralRoleArns' | 'externalId'>) {
  const externalId = options.externalId === undefined ? {} : { StringEquals: { 'sts:ExternalId': options.externalId } };
  const statement =
    options.centralRoleArns.length > 0
      ? {
          Effect: 'Allow',
          Principal: { AWS: [...options.centralRoleArns] },
          Action: 'sts:AssumeRole',
          ...(options.externalId === undefined ? {} : { Condition: externalId }),
        }
      : {
          Effect: 'Allow',
          Principal: { AWS: sub(`arn:\${AWS::Partition}:iam::${options.centralAccount}:root`) },
          Action: 'sts:AssumeRole',
          Condition: { ...externalId, ArnLike: { 'aws:PrincipalArn': sub(`arn:\${AWS::Partition}:iam::${options.centralAccount}:role/sseguard-*`) } },
        };
  return { Version: '2012-10-17', Statement: [statement] };
}

/** The audit role's statements: read-only, the account's own buckets and keys only. */
export function auditStatements(options: Pick<MemberTemplateOptions, 'variant' | 'reportDestination' | 'metadataTable' | 'securityHub'>): PolicyStatement[] {
  const statements: PolicyStatement[] = [
    // ListBuckets (each bucket's Region); IAM has no narrower resource for it.
    { Sid: 'ListAllBuckets', Effect: 'Allow', Action: ['s3:ListAllMyBuckets'], Resource: '*' },
    // The bucket posture the sweep records; which inventory configuration delivers where; a bucket's
    // Region where ListBuckets leaves BucketRegion out (GetBucketLocation).
    {
      Sid: 'BucketPosture',
      Effect: 'Allow',
      Action: ['s3:GetEncryptionConfiguration', 's3:GetBucketPolicy', 's3:GetInventoryConfiguration', 's3:GetBucketLocation'],
      Resource: ALL_BUCKETS,
      Condition: OWN_ACCOUNT,
    },
    { Sid: 'KeyFacts', Effect: 'Allow', Action: ['kms:DescribeKey', 'kms:GetKeyRotationStatus'], Resource: OWN_KEYS },
    // Policies name keys by alias; ListAliases cannot be scoped to keys.
    { Sid: 'KeyAliases', Effect: 'Allow', Action: ['kms:ListAliases'], Resource: '*' },
  ];
  if (options.variant === 'head') {
    statements.push(
      { Sid: 'ListObjects', Effect: 'Allow', Action: ['s3:ListBucket', 's3:ListBucketVersions'], Resource: ALL_BUCKETS, Condition: OWN_ACCOUNT },
      // HeadObject: S3 authorises it as GetObject. Object data stays unread, but the permission allows it.
      { Sid: 'HeadObjects', Effect: 'Allow', Action: [...OBJECT_READ], Resource: ALL_OBJECTS, Condition: OWN_ACCOUNT },
    );
  }
  if (options.reportDestination !== undefined) {
    const { bucket, prefix } = splitDestination(options.reportDestination);
    const objects = prefix ? `${bucket}/${prefix}/*` : `${bucket}/*`;
    statements.push(
      { Sid: 'ReportDestinationList', Effect: 'Allow', Action: ['s3:ListBucket', ...(options.metadataTable ? ['s3:GetBucketLocation'] : [])], Resource: sub(`arn:\${AWS::Partition}:s3:::${bucket}`) },
      // Athena writes its query results there; inventory reports are only read.
      { Sid: 'ReportDestinationObjects', Effect: 'Allow', Action: ['s3:GetObject', ...(options.metadataTable ? ['s3:PutObject'] : [])], Resource: sub(`arn:\${AWS::Partition}:s3:::${objects}`) },
    );
  }
  if (options.securityHub) {
    statements.push({
      Sid: 'ImportOwnFindings',
      Effect: 'Allow',
      Action: ['securityhub:BatchImportFindings'],
      Resource: sub('arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:product/${AWS::AccountId}/default'),
    });
  }
  if (options.metadataTable) {
    statements.push(
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
    );
  }
  return statements;
}

/** The opt-in remediation role: UpdateObjectEncryption, the copy fallback, target keys through S3 only, Batch Operations. */
export function remediationStatements(): PolicyStatement[] {
  const batchRole = sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${MEMBER_ROLE_NAMES.batchOperations}`);
  return [
    { Sid: 'ObjectsFix', Effect: 'Allow', Action: [...OBJECT_READ, ...OBJECT_FIX], Resource: ALL_OBJECTS, Condition: OWN_ACCOUNT },
    { Sid: 'Buckets', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: ALL_BUCKETS, Condition: OWN_ACCOUNT },
    // S3 decrypts the source with the object's key, wherever that key lives, and only through S3.
    { Sid: 'DecryptSourceViaS3', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:ReEncryptFrom'], Resource: '*', Condition: VIA_S3 },
    // UpdateObjectEncryption takes target keys of the bucket owner's account only.
    { Sid: 'EncryptTargetViaS3', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:ReEncryptTo'], Resource: OWN_KEYS, Condition: VIA_S3 },
    { Sid: 'KeyFacts', Effect: 'Allow', Action: ['kms:DescribeKey', 'kms:GetKeyRotationStatus'], Resource: OWN_KEYS },
    // CreateJob has no resource type in IAM; DescribeJob is scoped to the account's jobs.
    { Sid: 'CreateBatchJobs', Effect: 'Allow', Action: ['s3:CreateJob'], Resource: '*' },
    { Sid: 'DescribeBatchJobs', Effect: 'Allow', Action: ['s3:DescribeJob'], Resource: sub('arn:${AWS::Partition}:s3:*:${AWS::AccountId}:job/*') },
    // Only the Batch Operations role, and only to S3 Batch Operations.
    {
      Sid: 'PassBatchRole',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: batchRole,
      Condition: { StringEquals: { 'iam:PassedToService': 'batchoperations.s3.amazonaws.com' } },
    },
  ];
}

/** What S3 Batch Operations does as the Batch role: UpdateObjectEncryption, manifests, reports. */
export function batchOperationsStatements(): PolicyStatement[] {
  return [
    { Sid: 'UpdateObjectEncryption', Effect: 'Allow', Action: ['s3:UpdateObjectEncryption'], Resource: ALL_OBJECTS, Condition: OWN_ACCOUNT },
    // Manifests and completion reports live under sseguard-batch/ in a bucket the caller names.
    { Sid: 'Manifests', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: sub('arn:${AWS::Partition}:s3:::*/sseguard-batch/manifests/*') },
    { Sid: 'Reports', Effect: 'Allow', Action: ['s3:PutObject'], Resource: sub('arn:${AWS::Partition}:s3:::*/sseguard-batch/reports/*') },
    { Sid: 'DecryptSourceViaS3', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:ReEncryptFrom'], Resource: '*', Condition: VIA_S3 },
    { Sid: 'EncryptTargetViaS3', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:ReEncryptTo'], Resource: OWN_KEYS, Condition: VIA_S3 },
  ];
}

const role = (name: string, assumeRolePolicyDocument: unknown, policyName: string, statements: PolicyStatement[], description: string): Resource => ({
  Type: 'AWS::IAM::Role',
  Condition: 'CreateRoles',
  Properties: {
    RoleName: name,
    Description: description,
    // A one-hour session: the central functions refresh credentials before they expire.
    MaxSessionDuration: 3600,
    AssumeRolePolicyDocument: assumeRolePolicyDocument,
    Policies: [{ PolicyName: policyName, PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
  },
});

const servicePrincipal = (service: string, condition?: Record<string, unknown>) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole', ...(condition ? { Condition: condition } : {}) }],
});

/** The member-account template, as an object (JSON.stringify or YAML-dump it). Throws on bad options. */
export function memberTemplate(options: MemberTemplateOptions): CloudFormationTemplate {
  const problems = memberTemplateProblems(options);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const trust = trustPolicy(options);
  // In the primary Region the rules wait for the role (GetAtt); elsewhere they name it by its ARN.
  const forwardingRoleArn = {
    'Fn::If': ['CreateRoles', { 'Fn::GetAtt': ['EventForwardingRole', 'Arn'] }, sub(`arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${MEMBER_ROLE_NAMES.eventForwarding}`)],
  };
  const resources: Record<string, Resource> = {
    AuditRole: role(MEMBER_ROLE_NAMES.audit, trust, 'sseguard-audit', auditStatements(options), `sseguard: read-only audit (${options.variant} evidence) by the central functions`),
  };
  if (options.remediation) {
    resources.RemediationRole = role(MEMBER_ROLE_NAMES.remediation, trust, 'sseguard-remediation', remediationStatements(), 'sseguard: encryption fixes by the central worker');
    resources.BatchOperationsRole = role(
      MEMBER_ROLE_NAMES.batchOperations,
      servicePrincipal('batchoperations.s3.amazonaws.com', { StringEquals: { 'aws:SourceAccount': sub('${AWS::AccountId}') } }),
      'sseguard-batch-operations',
      batchOperationsStatements(),
      'sseguard: the role S3 Batch Operations assumes for UpdateObjectEncryption jobs',
    );
  }
  resources.EventForwardingRole = role(
    MEMBER_ROLE_NAMES.eventForwarding,
    servicePrincipal('events.amazonaws.com', { StringEquals: { 'aws:SourceAccount': sub('${AWS::AccountId}') } }),
    'sseguard-event-forwarding',
    [{ Sid: 'PutEventsOnCentralBus', Effect: 'Allow', Action: ['events:PutEvents'], Resource: options.eventBusArn }],
    "sseguard: EventBridge puts this account's S3 and KMS events on the central bus",
  );
  const forward = (name: string, description: string, pattern: unknown): Resource => ({
    Type: 'AWS::Events::Rule',
    Properties: {
      Name: name,
      Description: description,
      State: 'ENABLED',
      EventPattern: pattern,
      Targets: [{ Id: 'CentralBus', Arn: options.eventBusArn, RoleArn: forwardingRoleArn }],
    },
  });
  resources.ObjectEventsRule = forward('sseguard-object-events', 'S3 Object Created/Deleted (EventBridge-enabled buckets) to the sseguard central bus', MEMBER_OBJECT_EVENT_PATTERN);
  resources.KeyStateEventsRule = forward('sseguard-key-state-events', 'KMS key-state calls (CloudTrail) to the sseguard central bus', MEMBER_KEY_EVENT_PATTERN);

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description:
      'sseguard member account: audit role' +
      (options.remediation ? ', remediation roles' : '') +
      ' and event forwarding to the central bus. For a service-managed StackSet with auto-deployment; ' +
      'StackSets never deploy to the management account: give it its own stack of this template.',
    Parameters: {
      PrimaryRegion: {
        Type: 'String',
        Default: 'us-east-1',
        Description: 'The one Region where the IAM roles are created (IAM is global); rules are created in every Region',
      },
    },
    Conditions: { CreateRoles: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'PrimaryRegion' }] } },
    Resources: resources,
    Outputs: {
      AuditRoleArn: { Condition: 'CreateRoles', Description: 'The role the central functions assume', Value: { 'Fn::GetAtt': ['AuditRole', 'Arn'] } },
      ...(options.remediation
        ? { RemediationRoleArn: { Condition: 'CreateRoles', Description: 'The role the central worker assumes to fix', Value: { 'Fn::GetAtt': ['RemediationRole', 'Arn'] } } }
        : {}),
    },
  };
}
