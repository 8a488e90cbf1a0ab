// OCSF export (report --format ocsf, /export.ocsf) against the published OCSF 1.3.0 schema files
// (pinned: pydantic-ocsf==3.0.0 from PyPI ships them; see test/support/ocsf-schema.ts).
import { expect, test } from 'vitest';
import type { StoredFinding } from '../../shared/findings/store.ts';
import { exportRow } from '../../shared/report/export-formats.ts';
import { OCSF_VERSION, findingOcsf } from '../../shared/report/ocsf.ts';
import { ocsfValidator } from '../support/ocsf-schema.ts';

const ocsf = ocsfValidator(OCSF_VERSION);
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';

const finding = (over: Partial<StoredFinding> = {}): StoredFinding => ({
  bucket: 'data',
  key: 'finance/q1.csv',
  versionId: 'v1',
  size: 10,
  etag: '"e"',
  mode: 'sse-kms',
  kmsKeyArn: KEY,
  verdict: 'at-risk',
  reasons: [{ code: 'kms-key-disabled', message: 'the key is disabled' }],
  remediate: false,
  auditedAt: '2026-12-04T00:00:00.000Z',
  firstSeen: '2026-12-01T00:00:00.000Z',
  lastSeen: '2026-12-04T00:00:00.000Z',
  rev: 2,
  ...over,
}) as StoredFinding;

test(`every verdict exports as a valid OCSF ${OCSF_VERSION} Compliance Finding (class_uid 2003)`, () => {
  expect(ocsf.version).toBe(OCSF_VERSION);
  for (const verdict of ['compliant', 'noncompliant', 'at-risk', 'exempt', 'unauditable'] as const) {
    const event = findingOcsf(finding({ verdict }), { region: 'us-east-1', accountId: '123456789012' });
    expect(ocsf.validate('compliance_finding', event)).toEqual([]);
  }
  const event = findingOcsf(finding(), { region: 'us-east-1' });
  expect(event).toMatchObject({ class_uid: 2003, category_uid: 2, type_uid: 200302, severity_id: 5, compliance: { status_id: 3 }, finding_info: { uid: 'sseguard/data/finance/q1.csv' } });
  expect(event.resources[0]!.data).toMatchObject({ bucket: 'data', key: 'finance/q1.csv', version_id: 'v1', kms_key_arn: KEY });
  expect(event.resources[1]).toMatchObject({ type: 'AWS::KMS::Key', uid: KEY });
  expect(findingOcsf(finding({ verdict: 'compliant', reasons: [] }), { region: 'us-east-1' }).compliance.status_id).toBe(1);
});

test("an event names the finding's own account and Region (a member account's object), the context's only when the finding has none", () => {
  const event = findingOcsf(finding({ account: '111111111111', region: 'eu-west-1' }), { region: 'us-east-1', accountId: '123456789012' });
  expect(event.cloud).toEqual({ provider: 'AWS', region: 'eu-west-1', account: { uid: '111111111111', type_id: 10, type: 'AWS Account' } });
  expect(event.resources[0]!.region).toBe('eu-west-1');
  expect(findingOcsf(finding(), { region: 'us-east-1', accountId: '123456789012' }).cloud).toMatchObject({ region: 'us-east-1', account: { uid: '123456789012' } });
  expect(ocsf.validate('compliance_finding', event)).toEqual([]);
});

test('the validator refuses what the schema refuses: a missing required field, an unknown field, a value outside its enum', () => {
  const event = findingOcsf(finding(), { region: 'us-east-1' });
  const { finding_info: _info, ...noInfo } = event;
  expect(ocsf.validate('compliance_finding', noInfo)).toContain('compliance_finding.finding_info: required');
  expect(ocsf.validate('compliance_finding', { ...event, sseguard_verdict: 'at-risk' })).not.toEqual([]);
  expect(ocsf.validate('compliance_finding', { ...event, compliance: { ...event.compliance, verdict: 'x' } })).toContain('compliance_finding.compliance.verdict: not an attribute of this class or object in OCSF 1.3.0');
  expect(ocsf.validate('compliance_finding', { ...event, compliance: { ...event.compliance, status_id: 7 } })).not.toEqual([]);
  expect(ocsf.validate('compliance_finding', { ...event, compliance: { status_id: 3 } })).toContain('compliance_finding.compliance.standards: required');
});

test('/export.ocsf rows are JSON lines, one event each', () => {
  const row = exportRow('ocsf', finding(), { accountId: '123456789012', region: 'us-east-1' });
  expect(row.endsWith('\n')).toBe(true);
  expect(ocsf.validate('compliance_finding', JSON.parse(row))).toEqual([]);
});
