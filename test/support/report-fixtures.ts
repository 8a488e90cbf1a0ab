// Findings for the report API tests, recorded through the real store, and the helpers that say
// what the API should answer for them (computed here from the same list, independently of the API).
import { randomUUID } from 'node:crypto';
import type { EncryptionMode } from '../../shared/domain/encryption.ts';
import type { Finding } from '../../shared/domain/finding.ts';
import type { ReasonCode, Verdict } from '../../shared/domain/verdict.ts';
import type { DynamoFindingsStore } from '../../shared/findings/dynamodb-store.ts';

export const KEY_OK = 'arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111';
export const KEY_DISABLED = 'arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222';

/** Keys that break naive URL, CSV or JSON handling. */
export const ODD_KEYS = [
  'a b/c%2F d',
  'ümlaut/ключ/鍵',
  'emoji 🔐 lock',
  'q?x#y&z=1',
  'plus+sign=and;semi',
  '//double//slash/',
  'trailing space ',
  'line\nbreak,"quoted"',
  '../etc/passwd',
  'percent%25%zz',
  `long/${'x'.repeat(1000)}`,
];

const REASON: Record<Verdict, ReasonCode | undefined> = {
  compliant: undefined,
  noncompliant: 'not-encrypted',
  'at-risk': 'kms-key-disabled',
  exempt: 'exempted',
  unauditable: 'object-access-denied',
};

export function finding(bucket: string, key: string, verdict: Verdict, mode: EncryptionMode | undefined, size: number, kmsKeyArn?: string): Finding {
  const code = REASON[verdict];
  return {
    bucket,
    key,
    size,
    verdict,
    reasons: code ? [{ code, message: `${code} for ${key}` }] : [],
    remediate: false,
    auditedAt: '2026-11-20T10:00:00.000Z',
    ...(mode ? { mode, storageClass: 'STANDARD', etag: `"${randomUUID().replaceAll('-', '')}"` } : {}),
    ...(kmsKeyArn ? { kmsKeyArn, bucketKeyEnabled: false } : {}),
  };
}

/** About 150 findings over three buckets, every verdict and mode, two KMS keys, and the odd keys. */
export function reportFindings(): Finding[] {
  const findings: Finding[] = [];
  const buckets = ['alpha-bucket', 'beta-bucket', 'gamma-bucket'];
  buckets.forEach((bucket, b) => {
    for (let i = 0; i < 45; i++) {
      const key = `${['logs', 'finance', 'img'][i % 3]}/${String(i).padStart(3, '0')}.dat`;
      const pick = (i + b) % 9;
      if (pick < 3) findings.push(finding(bucket, key, 'compliant', 'sse-s3', 100 + i));
      else if (pick < 5) findings.push(finding(bucket, key, 'compliant', 'sse-kms', 200 + i, KEY_OK));
      else if (pick === 5) findings.push(finding(bucket, key, 'at-risk', 'sse-kms', 1000 + i, KEY_DISABLED));
      else if (pick === 6) findings.push(finding(bucket, key, 'noncompliant', 'none', 50 + i));
      else if (pick === 7) findings.push(finding(bucket, key, i % 2 ? 'exempt' : 'noncompliant', 'sse-c', 70 + i));
      else findings.push(finding(bucket, key, 'unauditable', undefined, 10 + i));
    }
  });
  ODD_KEYS.forEach((key, i) => findings.push(finding('odd-keys', key, i % 2 ? 'compliant' : 'at-risk', 'dsse-kms', 300 + i, i % 2 ? KEY_OK : KEY_DISABLED)));
  return findings;
}

export async function seedReport(store: DynamoFindingsStore, findings = reportFindings()): Promise<Finding[]> {
  await store.record(findings);
  const checkedAt = new Date('2026-11-20T10:00:00.000Z');
  await store.recordKeys(
    [
      { status: 'described', arn: KEY_OK, keyId: KEY_OK.split('/')[1]!, accountId: '123456789012', state: 'Enabled', manager: 'CUSTOMER', origin: 'AWS_KMS', rotationEnabled: true },
      { status: 'described', arn: KEY_DISABLED, keyId: KEY_DISABLED.split('/')[1]!, accountId: '123456789012', state: 'Disabled', manager: 'CUSTOMER', origin: 'AWS_KMS', rotationEnabled: false },
    ],
    checkedAt,
  );
  const runs = [
    { id: 'run-1', bucket: 'alpha-bucket', startedAt: '2026-11-18T10:00:00.000Z', compliant: 20 },
    { id: 'run-2', bucket: 'beta-bucket', startedAt: '2026-11-19T10:00:00.000Z', compliant: 25 },
    { id: 'run-3', bucket: 'alpha-bucket', startedAt: '2026-11-20T10:00:00.000Z', compliant: 30 },
  ];
  for (const run of runs) {
    await store.recordScan({
      id: run.id,
      bucket: run.bucket,
      prefix: '',
      startedAt: run.startedAt,
      finishedAt: run.startedAt.replace('10:00:00', '10:05:00'),
      objects: 45,
      verdicts: { compliant: run.compliant, noncompliant: 45 - run.compliant },
    });
  }
  return findings;
}

/** DynamoDB orders sort keys by their UTF-8 bytes; the API lists bucket by bucket in that order. */
export function apiOrder(a: Pick<Finding, 'bucket' | 'key'>, b: Pick<Finding, 'bucket' | 'key'>): number {
  if (a.bucket !== b.bucket) return a.bucket < b.bucket ? -1 : 1;
  return Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));
}

export const compliancePercent = (findings: Finding[]) =>
  findings.length === 0 ? 100 : Math.round((10000 * findings.filter((f) => f.verdict === 'compliant' || f.verdict === 'exempt').length) / findings.length) / 100;
