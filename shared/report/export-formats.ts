// The export formats: CSV (the same columns as `sseguard report --format csv`), JSON, and AWS
// Security Finding Format (ASFF) documents ready for Security Hub's BatchImportFindings.
// Each is written one finding at a time, so an export of any size is produced in constant memory.
import type { Finding } from '../domain/finding.ts';
import type { Verdict } from '../domain/verdict.ts';
import type { StoredFinding } from '../findings/store.ts';
import { findingOcsf } from './ocsf.ts';

/** A finding as audited (scan output) or as stored (report, API): the store adds first/last seen. */
type AnyFinding = Finding & Partial<Pick<StoredFinding, 'firstSeen' | 'lastSeen'>>;

export const EXPORT_FORMATS = ['csv', 'json', 'asff', 'ocsf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const FINDING_CSV_COLUMNS = ['bucket', 'key', 'versionId', 'mode', 'kmsKeyArn', 'verdict', 'reasons', 'size', 'storageClass', 'etag', 'auditedAt', 'policyVersion', 'policyHash', 'account', 'region'] as const;

/** RFC 4180: quote a field when it holds a comma, a quote or a line break. */
export function csvField(value: string | number | undefined): string {
  const text = value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function findingCsvRow(f: AnyFinding): string {
  const values: Record<(typeof FINDING_CSV_COLUMNS)[number], string | number | undefined> = {
    account: f.account,
    region: f.region,
    bucket: f.bucket,
    key: f.key,
    versionId: f.versionId,
    mode: f.mode,
    kmsKeyArn: f.kmsKeyArn,
    verdict: f.verdict,
    reasons: f.reasons.map((r) => r.code).join(';'),
    size: f.size,
    storageClass: f.storageClass,
    etag: f.etag,
    auditedAt: f.auditedAt,
    policyVersion: f.policy?.version,
    policyHash: f.policy?.hash,
  };
  return FINDING_CSV_COLUMNS.map((column) => csvField(values[column])).join(',');
}

/**
 * The per-object JSON of the API, `scan --json` and `report --format json`: every field present,
 * null when unknown; first/last seen when the finding comes from the store; the fix when there was one.
 */
export function findingJson(f: AnyFinding) {
  return {
    account: f.account ?? null,
    region: f.region ?? null,
    bucket: f.bucket,
    key: f.key,
    versionId: f.versionId ?? null,
    isLatest: f.isLatest !== false,
    mode: f.mode ?? null,
    kmsKeyArn: f.kmsKeyArn ?? null,
    bucketKeyEnabled: f.bucketKeyEnabled ?? null,
    verdict: f.verdict,
    reasons: f.reasons,
    size: f.size,
    storageClass: f.storageClass ?? null,
    etag: f.etag ?? null,
    lastModified: f.lastModified ?? null,
    auditedAt: f.auditedAt,
    evidence: f.evidence ?? null,
    evidenceAt: f.evidenceAt ?? null,
    /** The policy that judged it; null on findings recorded before findings named their policy. */
    policy: f.policy ?? null,
    ...(f.firstSeen ? { firstSeen: f.firstSeen, lastSeen: f.lastSeen } : {}),
    ...(f.remediation ? { remediation: f.remediation } : {}),
  };
}

export interface AsffContext {
  accountId: string;
  region: string;
  partition?: string;
}

const ASFF_STATUS: Record<Verdict, { compliance: 'PASSED' | 'FAILED' | 'WARNING' | 'NOT_AVAILABLE'; workflow: 'NEW' | 'SUPPRESSED' | 'RESOLVED' }> = {
  compliant: { compliance: 'PASSED', workflow: 'RESOLVED' },
  exempt: { compliance: 'PASSED', workflow: 'SUPPRESSED' },
  noncompliant: { compliance: 'FAILED', workflow: 'NEW' },
  'at-risk': { compliance: 'FAILED', workflow: 'NEW' },
  unauditable: { compliance: 'NOT_AVAILABLE', workflow: 'NEW' },
};

function severity(f: StoredFinding): 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'INFORMATIONAL' {
  if (f.verdict === 'at-risk') return 'CRITICAL';
  if (f.verdict === 'noncompliant') return f.reasons.some((r) => r.code === 'not-encrypted' || r.code === 'sse-c-forbidden') ? 'HIGH' : 'MEDIUM';
  if (f.verdict === 'unauditable') return 'LOW';
  return 'INFORMATIONAL';
}

const SSE_HEADER: Record<string, string> = { 'sse-s3': 'AES256', 'sse-kms': 'aws:kms', 'dsse-kms': 'aws:kms:dsse' };

/** One finding as an AwsSecurityFinding (ASFF 2018-10-08). */
export function findingAsff(f: StoredFinding, context: AsffContext) {
  const partition = context.partition ?? 'aws';
  // Each object's own account and Region (a finding recorded before accounts were kept: the context's).
  const accountId = f.account ?? context.accountId;
  const region = f.region ?? context.region;
  const status = ASFF_STATUS[f.verdict];
  const reasons = f.reasons.map((r) => `${r.code}: ${r.message}`).join('\n');
  return {
    SchemaVersion: '2018-10-08',
    Id: `sseguard/${f.bucket}/${f.key}`,
    ProductArn: `arn:${partition}:securityhub:${region}:${accountId}:product/${accountId}/default`,
    GeneratorId: 'sseguard/s3-object-encryption',
    AwsAccountId: accountId,
    Types: ['Software and Configuration Checks/AWS Security Best Practices'],
    CreatedAt: f.firstSeen,
    UpdatedAt: f.lastSeen,
    Severity: { Label: severity(f) },
    Title: `S3 object encryption is ${f.verdict}`.slice(0, 256),
    Description: (reasons || `object is ${f.verdict} with the encryption policy`).slice(0, 1024),
    Resources: [
      {
        Type: 'AwsS3Object',
        Id: `arn:${partition}:s3:::${f.bucket}/${f.key}`,
        Partition: partition,
        Region: region,
        Details: {
          AwsS3Object: {
            ...(f.mode && SSE_HEADER[f.mode] ? { ServerSideEncryption: SSE_HEADER[f.mode] } : {}),
            ...(f.kmsKeyArn ? { SSEKMSKeyId: f.kmsKeyArn } : {}),
            ...(f.etag ? { ETag: f.etag } : {}),
            ...(f.versionId ? { VersionId: f.versionId } : {}),
            ...(f.lastModified ? { LastModified: f.lastModified } : {}),
          },
        },
      },
    ],
    Compliance: { Status: status.compliance, ...(f.reasons.length ? { StatusReasons: f.reasons.slice(0, 10).map((r) => ({ ReasonCode: r.code, Description: r.message.slice(0, 2048) })) } : {}) },
    Workflow: { Status: status.workflow },
    RecordState: 'ACTIVE',
    ProductFields: {
      'sseguard/verdict': f.verdict,
      'sseguard/mode': f.mode ?? 'unknown',
      'sseguard/reasons': f.reasons.map((r) => r.code).join(','),
    },
  };
}

/** The text around the rows of one export document: header, separator, footer. */
export function exportFrame(format: ExportFormat): { contentType: string; open: string; separator: string; close: (nextCursor?: string) => string } {
  switch (format) {
    case 'csv':
      return { contentType: 'text/csv; charset=utf-8', open: `${FINDING_CSV_COLUMNS.join(',')}\r\n`, separator: '', close: () => '' };
    case 'json':
      return { contentType: 'application/json', open: '{"findings":[', separator: ',', close: (next) => `],"nextCursor":${JSON.stringify(next ?? null)}}\n` };
    case 'asff':
      return { contentType: 'application/json', open: '{"Findings":[', separator: ',', close: (next) => `],"nextCursor":${JSON.stringify(next ?? null)}}\n` };
    case 'ocsf':
      // JSON lines: one OCSF event per line; a cut response continues at its Link: rel="next".
      return { contentType: 'application/x-ndjson', open: '', separator: '', close: () => '' };
  }
}

export function exportRow(format: ExportFormat, f: StoredFinding, asff: AsffContext): string {
  switch (format) {
    case 'csv':
      return `${findingCsvRow(f)}\r\n`;
    case 'json':
      return `\n${JSON.stringify(findingJson(f))}`;
    case 'asff':
      return `\n${JSON.stringify(findingAsff(f, asff))}`;
    case 'ocsf':
      return `${JSON.stringify(findingOcsf(f, { region: asff.region, ...(asff.accountId ? { accountId: asff.accountId } : {}) }))}\n`;
  }
}
