// The pure parts of delivery: PutEvents calls within EventBridge's limits, which changes make an
// outbox item, and the event details against their published schemas.
import { expect, test } from 'vitest';
import { putEventsCalls } from '../../shared/delivery/eventbridge.ts';
import { eventOf } from '../../shared/delivery/events.ts';
import { objectFindingId, objectSeverity } from '../../shared/delivery/securityhub.ts';
import { keyOutboxItem, outboxItemsForHistory, runOutboxItem, type ObjectChange } from '../../shared/findings/outbox.ts';
import { eventSchemaValidator } from '../support/event-schemas.ts';

const entry = (bytes: number) => ({ entry: { Source: 'sseguard', DetailType: 'Object Finding Changed', Detail: 'x'.repeat(bytes), EventBusName: 'b' } });

test('PutEvents calls hold at most 10 entries and 256 KB', () => {
  expect(putEventsCalls(Array.from({ length: 25 }, () => entry(10))).map((c) => c.length)).toEqual([10, 10, 5]);
  const big = putEventsCalls(Array.from({ length: 5 }, () => entry(100 * 1024)));
  expect(big.map((c) => c.length)).toEqual([2, 2, 1]);
});

const change = (over: Partial<ObjectChange['entry']> = {}): ObjectChange => ({
  bucket: 'b',
  key: 'k',
  size: 5,
  entry: { auditedAt: '2026-12-04T00:00:00.000Z', rev: 1, verdict: 'noncompliant', reasons: [{ code: 'mode-not-allowed', message: 'SSE-S3' }], mode: 'sse-s3', ...over },
});

test('a new compliant object makes no outbox item; a new failing one, a change and a removal one each; a fix adds Remediation Applied', () => {
  expect(outboxItemsForHistory(change({ verdict: 'compliant', reasons: [] }), 'HIST#1', false)).toEqual([]);
  expect(outboxItemsForHistory(change(), 'HIST#1', false).map((i) => i.kind)).toEqual(['object']);
  expect(outboxItemsForHistory(change({ verdict: 'compliant', previousVerdict: 'noncompliant' }), 'HIST#2', false).map((i) => i.kind)).toEqual(['object']);
  expect(outboxItemsForHistory(change({ removed: true, previousVerdict: 'compliant', verdict: 'compliant' }), 'HIST#3', false).map((i) => i.kind)).toEqual(['object']);
  const fix = { action: 'update-encryption', outcome: 'fixed', at: '2026-12-04T00:00:01.000Z', before: { mode: 'sse-s3' as const, bucketKeyEnabled: false } };
  expect(outboxItemsForHistory(change({ remediation: fix }), 'HIST#FIX', true).map((i) => i.kind)).toEqual(['remediation']);
  // The same history item always gives the same id: a re-planned transaction writes it once.
  expect(outboxItemsForHistory(change(), 'HIST#1', false)[0]!.id).toBe(outboxItemsForHistory(change(), 'HIST#1', false)[0]!.id);
});

test('every detail type validates against its schema in schemas/events', async () => {
  const validate = eventSchemaValidator();
  const context = { keyExposure: async () => ({ objects: 3, bytes: 300 }) };
  const fix = { action: 'update-encryption', outcome: 'fixed', at: '2026-12-04T00:00:01.000Z', before: { mode: 'sse-s3' as const, bucketKeyEnabled: false } };
  const items = [
    ...outboxItemsForHistory(change({ remediation: fix }), 'HIST#1', false),
    keyOutboxItem({ keyArn: 'arn:aws:kms:us-east-1:123456789012:key/k', keyState: 'PendingDeletion', deletionDate: '2026-12-11T00:00:00.000Z' }, '2026-12-04T00:00:00.000Z'),
    keyOutboxItem({ keyArn: 'arn:aws:kms:us-east-1:123456789012:key/k', keyState: 'Enabled', previousState: 'Disabled' }, '2026-12-05T00:00:00.000Z'),
    runOutboxItem({ runId: 'r', bucket: 'b', prefix: '', startedAt: '2026-12-04T00:00:00.000Z', finishedAt: '2026-12-04T00:01:00.000Z', objects: 1, bytes: 5, notAudited: 0, verdicts: { noncompliant: 1 } }),
  ];
  const events = await Promise.all(items.map((item) => eventOf(item, context)));
  expect(events.map((e) => e.detailType)).toEqual(['Object Finding Changed', 'Remediation Applied', 'KMS Key At Risk', 'KMS Key Recovered', 'Run Completed']);
  for (const event of events) expect(validate(event.detailType, event.detail)).toEqual([]);
  // A detail missing what its schema requires is refused: the check can fail.
  expect(validate('KMS Key At Risk', { ...events[2]!.detail, objects: undefined })).not.toEqual([]);
  // A recovered key is never sent as at risk, nor an at-risk one as recovered.
  expect(validate('KMS Key At Risk', events[3]!.detail)).not.toEqual([]);
  expect(validate('KMS Key Recovered', events[2]!.detail)).not.toEqual([]);
});

test('Security Hub: one stable Id per object within 512 characters; at-risk is CRITICAL', () => {
  expect(objectFindingId('b', 'k')).toBe('sseguard/b/k');
  expect(objectFindingId('b', 'k'.repeat(1000)).length).toBeLessThanOrEqual(512);
  expect(objectFindingId('b', 'k'.repeat(1000))).toBe(objectFindingId('b', 'k'.repeat(1000)));
  expect(objectSeverity('at-risk', [])).toBe('CRITICAL');
  expect(objectSeverity('noncompliant', [{ code: 'not-encrypted' }])).toBe('HIGH');
});
