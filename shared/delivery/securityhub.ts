// Security Hub destination: each changed object finding (and each key newly at risk) imported with
// BatchImportFindings under the account's default product, one stable finding Id per object, so a
// re-import updates the finding instead of adding one. At most 100 findings and 6 MB per call, 240 KB
// per finding; FailedFindings in a 200 answer and throttling are sent again with the project's backoff.
// Fields a person owns are never sent: Note, UserDefinedFields, VerificationState; Workflow only as
// RESOLVED when a finding turns PASSED (Security Hub ignores it on update and resolves it itself;
// moto stores what it is sent), severity and types only through FindingProviderFields.
//
// Under the default product ARN Security Hub takes a finding only from its own account
// (AwsAccountId = the caller's account; any other is refused), so a member account's findings are
// imported with that member's audit role, in the finding's Region, under the member's own product:
// one group of calls per account and Region. A group that cannot be imported (the role cannot be
// assumed, access denied) stays in the outbox for the next run; the other groups go on.
import { createHash } from 'node:crypto';
import { BatchImportFindingsCommand, SecurityHubClient, type AwsSecurityFinding, type Partition } from '@aws-sdk/client-securityhub';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AccountUnreachableError, type AccountCredentials } from '../accounts/credentials.ts';
import { commonSettings, endpointsFromEnvironment, type ClientOptions } from '../aws/clients.ts';
import { isTransientServiceError } from '../aws/errors.ts';
import { backoffMs, retrying, type RetryPolicy } from '../aws/retry.ts';
import type { Verdict } from '../domain/verdict.ts';
import type { ObjectChange, OutboxItem } from '../findings/outbox.ts';
import type { DeliveryContext, Destination } from './outbox-delivery.ts';
import { AT_RISK_KEY_STATES } from './events.ts';
import { objectFindingId } from './finding-id.ts';

const MAX_FINDINGS = 100;
const MAX_CALL_BYTES = 6 * 1024 * 1024;
const MAX_FINDING_BYTES = 240 * 1024;
export const SECURITY_HUB_RETRY: RetryPolicy = { attempts: 8, baseMs: 100, capMs: 5_000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Security Hub and STS clients, at the endpoints the environment names (AWS_ENDPOINT_URL_SECURITYHUB, _STS, or one for all). */
export function createSecurityHubClients(options: ClientOptions = {}): { securityHub: SecurityHubClient; sts: STSClient } {
  return {
    securityHub: new SecurityHubClient({ ...commonSettings(options), ...endpointOf('securityhub', options) }),
    sts: new STSClient({ ...commonSettings(options), ...endpointOf('sts', options) }),
  };
}

function endpointOf(service: string, options: ClientOptions): { endpoint?: string } {
  const env = process.env;
  const url = env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] ?? options.endpoint ?? (Object.keys(endpointsFromEnvironment()).length > 0 ? env.AWS_ENDPOINT_URL : undefined);
  return url ? { endpoint: url } : {};
}

/**
 * Security Hub clients per account and Region, made once each: the caller's credentials for its own
 * account, the member's audit role (assumed once per account and refreshed, shared/accounts/credentials.ts)
 * for a member's.
 */
export function securityHubClientsPerAccount(options: ClientOptions, member: AccountCredentials): NonNullable<SecurityHubTarget['clientFor']> {
  const clients = new Map<string, SecurityHubClient>();
  return (account, region, own) => {
    const name = own ? `own|${region}` : `${account}|${region}`;
    let client = clients.get(name);
    if (!client) {
      client = new SecurityHubClient({ ...commonSettings(options), ...endpointOf('securityhub', options), region, ...(own ? {} : { credentials: member.provider(account) }) });
      clients.set(name, client);
    }
    return client;
  };
}

export interface SecurityHubTarget {
  region: string;
  partition?: string;
  /** The caller's account, asked of STS once: each finding's own account when it names none. */
  callerAccount: () => Promise<string>;
  /**
   * The client that imports one account's findings in one Region: the caller's own credentials for
   * its own account, the member's assumed audit role for a member. Absent: every finding goes
   * through the destination's one client (a single account in one Region).
   */
  clientFor?: (account: string, region: string, own: boolean) => SecurityHubClient;
}

/** The account and Region a KMS key ARN names (arn:partition:kms:region:account:key/id). */
function keyHome(keyArn: string): { account?: string; region?: string } {
  const [, , service, region, account] = keyArn.split(':');
  return service === 'kms' && region && account && /^\d{12}$/.test(account) ? { account, region } : {};
}

/** The caller's account from STS GetCallerIdentity, asked once per process. */
export function cachedCallerAccount(sts: STSClient): () => Promise<string> {
  let account: Promise<string> | undefined;
  return () =>
    (account ??= retrying('STS GetCallerIdentity', () => sts.send(new GetCallerIdentityCommand({})), SECURITY_HUB_RETRY).then((answer) => {
      if (!answer.Account) throw new Error('STS GetCallerIdentity named no account');
      return answer.Account;
    }));
}

const COMPLIANCE: Record<Verdict, 'PASSED' | 'FAILED' | 'WARNING'> = {
  compliant: 'PASSED',
  exempt: 'PASSED',
  noncompliant: 'FAILED',
  'at-risk': 'FAILED',
  unauditable: 'WARNING',
};

type Label = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'INFORMATIONAL';

export function objectSeverity(verdict: Verdict, reasons: { code: string }[]): Label {
  if (verdict === 'at-risk') return 'CRITICAL';
  if (verdict === 'noncompliant') return reasons.some((r) => r.code === 'not-encrypted' || r.code === 'sse-c-forbidden') ? 'HIGH' : 'MEDIUM';
  if (verdict === 'unauditable') return 'LOW';
  return 'INFORMATIONAL';
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export { objectFindingId };

export const keyFindingId = (keyArn: string): string => `sseguard/kms-key/${keyArn}`;
export const postureFindingId = (bucket: string): string => `sseguard/bucket-posture/${bucket}`;

const TYPES = ['Software and Configuration Checks/AWS Security Best Practices/Data Protection'];

function objectFinding(change: ObjectChange, account: string, target: SecurityHubTarget): AwsSecurityFinding {
  const partition = target.partition ?? 'aws';
  const region = change.region ?? target.region;
  const { entry } = change;
  const status = COMPLIANCE[entry.verdict];
  const reasons = entry.reasons.map((r) => `${r.code}: ${r.message}`).join('\n');
  const nowPassed = status === 'PASSED' && entry.previousVerdict !== undefined && COMPLIANCE[entry.previousVerdict] !== 'PASSED';
  return {
    SchemaVersion: '2018-10-08',
    // A noncurrent version is exposure of its own: its own finding, beside the current object's.
    Id: objectFindingId(change.bucket, change.key, change.noncurrent ? entry.versionId : undefined),
    ProductArn: `arn:${partition}:securityhub:${region}:${account}:product/${account}/default`,
    GeneratorId: 'sseguard/s3-object-encryption',
    AwsAccountId: account,
    CreatedAt: entry.auditedAt,
    UpdatedAt: entry.auditedAt,
    Title: (entry.removed ? 'S3 object removed' : `S3 object ${change.noncurrent ? 'noncurrent version ' : ''}encryption is ${entry.verdict}`).slice(0, 256),
    Description: (reasons || `object is ${entry.verdict} with the encryption policy`).slice(0, 1024),
    FindingProviderFields: { Severity: { Label: objectSeverity(entry.verdict, entry.reasons), Original: entry.verdict }, Types: TYPES },
    Resources: [
      {
        Type: 'AwsS3Object',
        Id: `arn:${partition}:s3:::${change.bucket}/${change.key}`,
        Partition: partition as Partition,
        Region: region,
        Details: {
          AwsS3Object: {
            ...(entry.kmsKeyArn ? { SSEKMSKeyId: entry.kmsKeyArn } : {}),
            ...(entry.etag ? { ETag: entry.etag } : {}),
            ...(entry.versionId ? { VersionId: entry.versionId } : {}),
          },
        },
      },
    ],
    Compliance: {
      Status: status,
      ...(entry.reasons.length ? { StatusReasons: entry.reasons.slice(0, 10).map((r) => ({ ReasonCode: r.code, Description: r.message.slice(0, 2048) })) } : {}),
    },
    ...(nowPassed ? { Workflow: { Status: 'RESOLVED' } } : {}),
    RecordState: entry.removed ? 'ARCHIVED' : 'ACTIVE',
    ProductFields: { 'sseguard/verdict': entry.verdict, 'sseguard/mode': entry.mode ?? 'unknown', 'sseguard/reasons': entry.reasons.map((r) => r.code).join(',') },
  };
}

async function keyFinding(item: Extract<OutboxItem, { kind: 'key' }>, account: string, target: SecurityHubTarget, context: DeliveryContext): Promise<AwsSecurityFinding> {
  const partition = target.partition ?? 'aws';
  const region = keyHome(item.key.keyArn).region ?? target.region;
  const exposure = await context.keyExposure(item.key.keyArn);
  const dependents = exposure.objects > 0;
  const pending = item.key.keyState === 'PendingDeletion';
  // Back from at risk (enabled again, deletion cancelled): the same finding, PASSED and RESOLVED.
  const recovered = !AT_RISK_KEY_STATES.has(item.key.keyState);
  const label: Label = recovered ? 'INFORMATIONAL' : dependents ? 'CRITICAL' : 'LOW';
  return {
    SchemaVersion: '2018-10-08',
    Id: keyFindingId(item.key.keyArn),
    ProductArn: `arn:${partition}:securityhub:${region}:${account}:product/${account}/default`,
    GeneratorId: 'sseguard/kms-key-at-risk',
    AwsAccountId: account,
    CreatedAt: item.at,
    UpdatedAt: item.at,
    Title: (recovered
      ? `KMS key ${item.key.keyState} again (was ${item.key.previousState ?? 'at risk'}): ${exposure.objects} S3 objects encrypted under it are readable`
      : `KMS key ${pending ? 'pending deletion' : item.key.keyState} with ${exposure.objects} S3 objects encrypted under it`
    ).slice(0, 256),
    Description: (
      `${exposure.objects} objects (${exposure.bytes} bytes) recorded by sseguard are encrypted under this key; ` +
      (recovered
        ? `the key is ${item.key.keyState} again, so they can be read.`
        : pending
          ? `it is scheduled for deletion on ${item.key.deletionDate ?? 'an unknown date'}, after which they cannot be read.`
          : `they cannot be read while the key is ${item.key.keyState}.`)
    ).slice(0, 1024),
    FindingProviderFields: { Severity: { Label: label, Original: item.key.keyState }, Types: TYPES },
    Resources: [{ Type: 'AwsKmsKey', Id: item.key.keyArn, Partition: partition as Partition, Region: region }],
    Compliance: { Status: recovered ? 'PASSED' : 'FAILED' },
    ...(recovered ? { Workflow: { Status: 'RESOLVED' } } : {}),
    RecordState: 'ACTIVE',
    ProductFields: { 'sseguard/keyState': item.key.keyState, 'sseguard/objects': String(exposure.objects), 'sseguard/bytes': String(exposure.bytes) },
  };
}

/** A bucket's posture (default encryption, SSE-C blocking, TLS, unencrypted puts): one finding per bucket. */
function postureFinding(item: Extract<OutboxItem, { kind: 'posture' }>, account: string, target: SecurityHubTarget): AwsSecurityFinding {
  const partition = target.partition ?? 'aws';
  const { posture } = item;
  const verdict = posture.verdict as Verdict;
  const status = COMPLIANCE[verdict] ?? 'WARNING';
  const reasons = posture.reasons.map((r) => `${r.code}: ${r.message}`).join('\n');
  const nowPassed = status === 'PASSED' && posture.previousVerdict !== undefined && COMPLIANCE[posture.previousVerdict as Verdict] !== 'PASSED';
  return {
    SchemaVersion: '2018-10-08',
    Id: postureFindingId(posture.bucket),
    ProductArn: `arn:${partition}:securityhub:${target.region}:${account}:product/${account}/default`,
    GeneratorId: 'sseguard/s3-bucket-encryption-posture',
    AwsAccountId: account,
    CreatedAt: item.at,
    UpdatedAt: item.at,
    Title: `S3 bucket encryption posture is ${posture.verdict}`.slice(0, 256),
    Description: (reasons || `the bucket's encryption settings are ${posture.verdict} with the policy`).slice(0, 1024),
    FindingProviderFields: { Severity: { Label: objectSeverity(verdict, posture.reasons), Original: posture.verdict }, Types: TYPES },
    Resources: [{ Type: 'AwsS3Bucket', Id: `arn:${partition}:s3:::${posture.bucket}`, Partition: partition as Partition, Region: target.region }],
    Compliance: {
      Status: status,
      ...(posture.reasons.length ? { StatusReasons: posture.reasons.slice(0, 10).map((r) => ({ ReasonCode: r.code, Description: r.message.slice(0, 2048) })) } : {}),
    },
    ...(nowPassed ? { Workflow: { Status: 'RESOLVED' } } : {}),
    RecordState: 'ACTIVE',
    ProductFields: { 'sseguard/verdict': posture.verdict, 'sseguard/reasons': posture.reasons.map((r) => r.code).join(',') },
  };
}

/** Splits findings into calls of at most 100 findings and 6 MB. */
function importCalls<T extends { bytes: number }>(findings: T[]): T[][] {
  const calls: T[][] = [];
  let call: T[] = [];
  let bytes = 0;
  for (const f of findings) {
    if (call.length === MAX_FINDINGS || (call.length > 0 && bytes + f.bytes > MAX_CALL_BYTES)) {
      calls.push(call);
      call = [];
      bytes = 0;
    }
    call.push(f);
    bytes += f.bytes;
  }
  if (call.length > 0) calls.push(call);
  return calls;
}

export function securityHubDestination(client: SecurityHubClient, target: SecurityHubTarget, policy: RetryPolicy = SECURITY_HUB_RETRY): Destination {
  type Pending = { id: string; finding: AwsSecurityFinding; bytes: number };
  /** Imports one account's findings in one Region; returns the outbox ids it took. */
  const importGroup = async (groupClient: SecurityHubClient, findings: Pending[]): Promise<string[]> => {
    const delivered: string[] = [];
    let pending = findings;
    for (let attempt = 1; pending.length > 0 && attempt <= policy.attempts; attempt++) {
      if (attempt > 1) await sleep(backoffMs(attempt, policy));
      const refused: Pending[] = [];
      for (const call of importCalls(pending)) {
        let answer;
        try {
          answer = await retrying('Security Hub BatchImportFindings', () => groupClient.send(new BatchImportFindingsCommand({ Findings: call.map((c) => c.finding) })), policy);
        } catch (error) {
          if (!isTransientServiceError((error as Error).cause)) throw error;
          refused.push(...call);
          continue;
        }
        const failed = new Set((answer.FailedFindings ?? []).map((f) => f.Id));
        for (const c of call) {
          if (failed.has(c.finding.Id)) refused.push(c);
          else delivered.push(c.id);
        }
      }
      pending = refused;
    }
    return delivered;
  };
  return {
    name: 'securityhub',
    async send(items: OutboxItem[], context: DeliveryContext): Promise<Set<string>> {
      const delivered = new Set<string>();
      const caller = await target.callerAccount();
      const groups = new Map<string, { account: string; region: string; findings: Pending[] }>();
      for (const item of items) {
        // A fix's own event and a run's end are EventBridge news; the object's change that follows is the finding.
        if (item.kind === 'remediation' || item.kind === 'run') {
          delivered.add(item.id);
          continue;
        }
        const home = item.kind === 'object' ? { account: item.change.account, region: item.change.region } : item.kind === 'key' ? keyHome(item.key.keyArn) : {};
        const account = home.account ?? caller;
        const region = home.region ?? target.region;
        const finding =
          item.kind === 'object' ? objectFinding(item.change, account, target) : item.kind === 'posture' ? postureFinding(item, account, target) : await keyFinding(item, account, target, context);
        const bytes = Buffer.byteLength(JSON.stringify(finding));
        if (bytes > MAX_FINDING_BYTES) throw new Error(`finding ${finding.Id} is ${bytes} bytes: Security Hub takes at most ${MAX_FINDING_BYTES}`);
        const group = `${account}|${region}`;
        if (!groups.has(group)) groups.set(group, { account, region, findings: [] });
        groups.get(group)!.findings.push({ id: item.id, finding, bytes });
      }
      for (const { account, region, findings } of groups.values()) {
        const own = account === caller;
        const groupClient = (own && region === target.region) || !target.clientFor ? client : target.clientFor(account, region, own);
        try {
          for (const id of await importGroup(groupClient, findings)) delivered.add(id);
        } catch (error) {
          // A member whose role cannot be assumed or that denies the import: its findings wait for
          // the next run (counted as failed); no other account's findings are held back by it.
          const refusal = (e: unknown) => (e as { $fault?: string } | undefined)?.$fault === 'client';
          if (error instanceof AccountUnreachableError || refusal(error) || refusal((error as Error).cause)) continue;
          throw error;
        }
      }
      return delivered;
    },
  };
}
