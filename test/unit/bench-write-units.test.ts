import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, test } from 'vitest';
import { itemBytes, itemTypeOf, WriteUnitCounter } from '../../bench/dynamodb-units.ts';
import { stateItem } from '#shared/findings/reader.ts';
import type { StoredFinding } from '#shared/findings/store.ts';

const wire = (item: Record<string, unknown>) => marshall(item, { removeUndefinedValues: true }) as unknown as Record<string, Record<string, unknown>>;

const state = (over: Partial<StoredFinding> = {}): StoredFinding =>
  ({
    bucket: 'b',
    key: 'k',
    verdict: 'compliant',
    reasons: [],
    mode: 'sse-kms',
    kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/one',
    size: 1,
    auditedAt: '2026-12-05T00:00:00.000Z',
    firstSeen: '2026-12-05T00:00:00.000Z',
    lastSeen: '2026-12-05T00:00:00.000Z',
    rev: 1,
    ...over,
  }) as StoredFinding;

describe('bench write units: what DynamoDB bills a write, from the item sent', () => {
  test('item size is names and values in UTF-8, numbers by significant digits, maps and lists 3 bytes + 1 per element', () => {
    expect(itemBytes(wire({ ab: 'xyz' }))).toBe(5);
    expect(itemBytes(wire({ n: 12345 }))).toBe(1 + 3 + 1);
    expect(itemBytes(wire({ n: 1000 }))).toBe(1 + 1 + 1);
    expect(itemBytes(wire({ é: 'é' }))).toBe(4);
    expect(itemBytes(wire({ m: { a: 'x' } }))).toBe(1 + 3 + 1 + 1 + 1);
    expect(itemBytes(wire({ l: ['x', true] }))).toBe(1 + 3 + (1 + 1) + (1 + 1));
  });

  test('items are typed by their keys', () => {
    expect(itemTypeOf(wire({ pk: 'OBJ#b/k', sk: 'STATE' }))).toBe('objectState');
    expect(itemTypeOf(wire({ pk: 'OBJ#b/k', sk: 'HIST#2026#0000000001' }))).toBe('history');
    expect(itemTypeOf(wire({ pk: 'COUNTERS', sk: 'ALL#3' }))).toBe('counters');
    expect(itemTypeOf(wire({ pk: 'INVENTORY#b', sk: 'SWEPT' }))).toBe('inventoryProgress');
    expect(itemTypeOf(wire({ pk: 'SCANS', sk: 'x' }))).toBe('runRecord');
  });

  test('a transactional item costs 2 WRU per started KB; a standalone one 1; a state replaced under another verdict moves its byVerdict entry only', () => {
    const counter = new WriteUnitCounter();
    const before = wire(stateItem(state()));
    counter.read([before]);
    const big = wire(stateItem(state({ verdict: 'at-risk', rev: 2, facts: { padding: 'x'.repeat(1500) } as unknown as StoredFinding['facts'] })));
    counter.request('TransactWriteItems', {
      TransactItems: [
        { Put: { TableName: 't', Item: big } },
        { Put: { TableName: 't', Item: wire({ pk: 'OBJ#b/k', sk: 'HIST#x#0000000002', verdict: 'at-risk' }) } },
        { ConditionCheck: { TableName: 't', Key: wire({ pk: 'INVENTORY#b', sk: 'SWEPT' }) } },
      ],
    });
    counter.request('PutItem', { TableName: 't', Item: wire({ pk: 'SCANS', sk: 'x' }) });
    const units = counter.result();
    expect(units.byItemType.objectState).toMatchObject({ items: 1, writeUnits: 4 });
    expect(units.byItemType.history).toMatchObject({ items: 1, writeUnits: 2 });
    expect(units.byItemType.conditionCheck).toMatchObject({ items: 1, writeUnits: 2 });
    expect(units.conditionChecksOn).toEqual({ inventoryProgress: 1 });
    expect(units.byItemType.runRecord).toMatchObject({ items: 1, writeUnits: 1 });
    expect(units.tableWriteUnits).toBe(9);
    // byVerdict and byKmsKey hold keys only (well under 1 KB an entry, however large the item):
    // byVerdict's old entry deleted and its new one put; byKmsKey's keys did not change: not written.
    // byBucket projects ALL: its entry rewritten at the item's size (2 KB).
    expect(units.indexWriteUnits).toBe(1 + 1 + 2);
    // Had they projected ALL: byVerdict's old entry deleted (1 KB) and new one put (2 KB); byBucket and byKmsKey rewritten (2 KB each).
    expect(units.indexWriteUnitsIfProjectedAll).toBe(1 + 2 + 2 + 2);
  });

  test('a state re-written with the same verdict, bucket and key writes only its byBucket entry (ALL); one gaining a KMS key writes its byKmsKey entry too', () => {
    const counter = new WriteUnitCounter();
    counter.read([wire(stateItem(state({ kmsKeyArn: undefined, mode: 'sse-s3' })))]);
    counter.request('TransactWriteItems', { TransactItems: [{ Put: { TableName: 't', Item: wire(stateItem(state({ rev: 2, auditedAt: '2026-12-06T00:00:00.000Z' }))) } }] });
    expect(counter.result().indexWriteUnits).toBe(1 + 1);
    counter.request('TransactWriteItems', { TransactItems: [{ Put: { TableName: 't', Item: wire(stateItem(state({ rev: 3, auditedAt: '2026-12-07T00:00:00.000Z', size: 99 }))) } }] });
    counter.request('UpdateItem', { TableName: 't', Key: wire({ pk: 'OBJ#b/k', sk: 'STATE' }), UpdateExpression: 'SET chainHead = :h', ExpressionAttributeValues: wire({ ':h': 'x' }) });
    // The two later writes kept verdict and key: byBucket's entry rewritten by each, no other.
    expect(counter.result().indexWriteUnits).toBe(2 + 1 + 1);
  });

  test('states read through the document client (unmarshalled, as the bench sees reads) are remembered as DynamoDB stores them', () => {
    const counter = new WriteUnitCounter();
    const before = stateItem(state());
    counter.read([before]);
    counter.request('TransactWriteItems', { TransactItems: [{ Put: { TableName: 't', Item: wire(stateItem(state({ rev: 2, size: 5 }))) } }] });
    // Known as read: only byBucket's entry (ALL) rewritten; unknown, byVerdict and byKmsKey would be put too.
    expect(counter.result().indexWriteUnits).toBe(1);
    counter.request('TransactWriteItems', { TransactItems: [{ Delete: { TableName: 't', Key: wire({ pk: 'OBJ#b/k', sk: 'STATE' }) } }] });
    expect(counter.result().byItemType.objectState!.maxBytes).toBe(itemBytes(wire(stateItem(state({ rev: 2, size: 5 })))));
    expect(counter.result().indexWriteUnits).toBe(1 + 3);
  });

  test('a removed state is billed at the size it had, and its index entries are deleted', () => {
    const counter = new WriteUnitCounter();
    const before = wire(stateItem(state()));
    counter.read([before]);
    counter.request('TransactWriteItems', { TransactItems: [{ Delete: { TableName: 't', Key: wire({ pk: 'OBJ#b/k', sk: 'STATE' }) } }] });
    const units = counter.result();
    expect(units.byItemType.objectState).toMatchObject({ items: 1, writeUnits: 2, meanBytes: itemBytes(before) });
    // byVerdict, byBucket and byKmsKey: one delete each.
    expect(units.indexWriteUnits).toBe(3);
  });
});
