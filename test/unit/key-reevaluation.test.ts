// The pure parts of key events: a stored finding re-evaluates exactly as the fresh audit it came
// from; pages of a large blast radius as the audit queue carries them; when a deletion is cancelled.
import { describe, expect, test } from 'vitest';
import { deletionToCancel, keyReevaluationPages } from '../../shared/audit/reevaluate-key.ts';
import { clientSideEnvelope, withServerSideLayer } from '../../shared/domain/client-side.ts';
import type { KeyLookup, ObjectFacts, ObjectInspection } from '../../shared/domain/encryption.ts';
import { evaluate } from '../../shared/domain/evaluate.ts';
import { inspectionFromStored, toFinding, type Finding } from '../../shared/domain/finding.ts';
import { PolicyError, policyFromDocument, resolvePolicy } from '../../shared/domain/policy.ts';
import { KEY_REEVALUATION_MESSAGE_KIND, MAX_OBJECTS_PER_KEY_MESSAGE, parseMessageBody } from '../../shared/events/audit-queue-messages.ts';
import { planRecord, planSize } from '../../shared/findings/record-decision.ts';

const KEY = 'arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111';
const policy = resolvePolicy(policyFromDocument({ version: 1 }), (ref) => ref);
const now = new Date('2026-12-01T09:00:00Z');
const key = (state: 'Enabled' | 'Disabled' | 'PendingDeletion', deletionDate?: string): KeyLookup => ({
  status: 'described',
  arn: KEY,
  keyId: '11111111-1111-1111-1111-111111111111',
  accountId: '111122223333',
  state,
  manager: 'CUSTOMER',
  origin: 'AWS_KMS',
  rotationEnabled: true,
  ...(deletionDate ? { deletionDate } : {}),
});

const envelope = clientSideEnvelope({ 'x-amz-key-v2': 'a2V5', 'x-amz-iv': 'aXY=', 'x-amz-cek-alg': 'AES/GCM/NoPadding', 'x-amz-wrap-alg': 'kms', 'x-amz-matdesc': '{}' })!;
const clientSideOverKms: ObjectFacts = {
  bucket: 'data',
  key: 'sealed.bin',
  versionId: 'v1',
  etag: '"e1"',
  size: 48,
  storageClass: 'STANDARD',
  lastModified: '2026-11-30T10:00:00.000Z',
  mode: 'client-side',
  kmsKeyArn: KEY,
  bucketKeyEnabled: false,
  objectLock: { mode: 'GOVERNANCE', retainUntil: '2027-01-01T00:00:00.000Z', legalHold: true },
  clientSide: withServerSideLayer(envelope, 'sse-kms'),
};
const read: ObjectInspection = { status: 'read', facts: clientSideOverKms };
const findingUnder = (k: KeyLookup, inspection: ObjectInspection = read): Finding =>
  toFinding(inspection, evaluate({ inspection, key: k, policy, now }), k, now, 48);

describe('a stored finding re-evaluates exactly as a fresh audit would', () => {
  test('the inspection rebuilt from a finding is the inspection it was made from (client-side envelope, object lock)', () => {
    expect(inspectionFromStored(findingUnder(key('Enabled')))).toEqual(read);
  });

  test('a client-side object over SSE-KMS under a disabled key: at-risk, from stored facts as from HeadObject', () => {
    const stored = findingUnder(key('Enabled'));
    expect(stored.verdict).toBe('compliant');
    const rebuilt = inspectionFromStored(stored)!;
    const again = evaluate({ inspection: rebuilt, key: key('Disabled'), policy, now });
    expect(again).toEqual(evaluate({ inspection: read, key: key('Disabled'), policy, now }));
    expect(again).toMatchObject({ verdict: 'at-risk', reasons: [{ code: 'kms-key-disabled' }] });
  });

  test('a finding without the facts (recorded before they were kept, or unreadable) rebuilds nothing: HeadObject decides', () => {
    const { facts: _facts, ...old } = findingUnder(key('Enabled'));
    expect(inspectionFromStored(old)).toBeUndefined();
    const noEnvelope = findingUnder(key('Enabled'));
    noEnvelope.facts = { objectLock: { legalHold: false } };
    expect(inspectionFromStored(noEnvelope)).toBeUndefined();
    const unreadable = findingUnder(key('Enabled'), { status: 'unreadable', bucket: 'data', key: 'x', reason: 'object-access-denied', detail: 'denied' });
    expect(inspectionFromStored(unreadable)).toBeUndefined();
  });

  test('a finding under a key pending deletion carries the deletion date', () => {
    expect(findingUnder(key('PendingDeletion', '2026-12-08T09:00:00.000Z'))).toMatchObject({
      verdict: 'at-risk',
      kmsKeyDeletionDate: '2026-12-08T09:00:00.000Z',
      reasons: [{ code: 'kms-key-pending-deletion', message: expect.stringContaining('deletion on 2026-12-08') }],
    });
  });

  test('a state recorded without facts gains them on its next audit (state only); facts in another key order write nothing', () => {
    const fresh = findingUnder(key('Enabled'));
    const { facts: _facts, ...old } = fresh;
    const previous = (state: Finding) => new Map([[`${state.bucket}/${state.key}`, { ...state, auditedAt: '2026-11-30T11:00:00.000Z', firstSeen: '2026-11-30T11:00:00.000Z', rev: 1 }]]);
    const gained = planRecord([fresh], previous(old));
    // The state only: no history entry (nothing a reader sees changed), no counter moved.
    expect([gained.states.length, gained.history.length, gained.counters.size]).toEqual([1, 0, 0]);
    expect(gained.states[0]?.state.facts).toEqual(fresh.facts);
    // DynamoDB returns a map's keys in any order.
    const reordered = { ...fresh, facts: { clientSide: fresh.facts!.clientSide!, objectLock: { legalHold: true, retainUntil: '2027-01-01T00:00:00.000Z', mode: 'GOVERNANCE' as const } } };
    expect(planSize(planRecord([fresh], previous(reordered)))).toBe(0);
  });
});

describe('pages of a key blast radius on the audit queue', () => {
  const objects = (bucket: string, n: number) => Array.from({ length: n }, (_, i) => ({ bucket, key: `k${i}`, size: i }));

  test('at most one page of objects per message, one bucket each, parsed back into key-event requests', () => {
    const pages = keyReevaluationPages(KEY, [...objects('bucket-a', 250), ...objects('bucket-b', 3)]);
    expect(pages.map((p) => [p.bucket, p.objects.length])).toEqual([
      ['bucket-a', 100],
      ['bucket-a', 100],
      ['bucket-a', 50],
      ['bucket-b', 3],
    ]);
    const parsed = parseMessageBody(JSON.stringify(pages[3]));
    expect(parsed).toEqual({
      kind: 'audit',
      requests: objects('bucket-b', 3).map((o) => ({ ...o, source: 'key-event', changedKeyArn: KEY })),
    });
  });

  test('a page larger than the bound, or naming no key ARN, is invalid (dead-lettered with the reason)', () => {
    const tooLarge = { kind: KEY_REEVALUATION_MESSAGE_KIND, keyArn: KEY, bucket: 'bucket-a', objects: objects('bucket-a', MAX_OBJECTS_PER_KEY_MESSAGE + 1) };
    expect(parseMessageBody(JSON.stringify(tooLarge))).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/^key re-evaluation message: objects/) });
    const alias = { ...tooLarge, keyArn: 'alias/data', objects: objects('bucket-a', 1) };
    expect(parseMessageBody(JSON.stringify(alias))).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('keyArn: not a KMS key ARN') });
  });
});

describe('cancelling the deletion of a key objects depend on', () => {
  const on = { cancelWhileObjectsDepend: true };
  const off = { cancelWhileObjectsDepend: false };
  const depended = { objects: 3, bytes: 300 };
  const nothing = { objects: 0, bytes: 0 };

  test.each([
    ['pending deletion, objects depend, policy opts in', key('PendingDeletion', '2026-12-08T09:00:00.000Z'), depended, on, true],
    ['the default policy never changes a key', key('PendingDeletion', '2026-12-08T09:00:00.000Z'), depended, off, false],
    ['no recorded object depends on it', key('PendingDeletion', '2026-12-08T09:00:00.000Z'), nothing, on, false],
    ['disabled, not pending deletion', key('Disabled'), depended, on, false],
    ['not found', { status: 'not-found', arn: KEY, detail: 'gone' } as const, depended, on, false],
  ])('%s', (_what, k, radius, option, expected) => {
    expect(deletionToCancel(k, radius, option)).toBe(expected);
  });

  test('the policy option is off by default, validated with its path', () => {
    expect(policyFromDocument({ version: 1 }).keyDeletion).toEqual({ cancelWhileObjectsDepend: false });
    expect(policyFromDocument({ version: 1, keyDeletion: { cancelWhileObjectsDepend: true } }).keyDeletion).toEqual({ cancelWhileObjectsDepend: true });
    expect(() => policyFromDocument({ version: 1, keyDeletion: { cancel: true } })).toThrow(PolicyError);
    expect(() => policyFromDocument({ version: 1, keyDeletion: { cancelWhileObjectsDepend: 'yes' } })).toThrow(/keyDeletion\.cancelWhileObjectsDepend/);
  });
});
