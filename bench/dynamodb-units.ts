// Write request units of the findings table's writes, by item type, from the requests themselves
// (bench-only: the emulator does not meter capacity). DynamoDB on demand bills a write by the size
// of the item: 1 WRU per started KB alone, 2 per started KB in a transaction (ConditionCheck
// included, sized by the item it checks), and each global secondary index the write touches is one
// more write per started KB of the index entry. What an index entry is follows the index's
// projection in shared/findings/table.ts: ALL, the whole item, rewritten by every write of an item
// in the index; KEYS_ONLY, the table's and the index's keys plus 100 bytes of overhead, written only
// when the item enters or leaves the index or its index key changes (a write that keeps the keys
// does not touch the index). An index key that changes costs a delete and a put. Sizes follow
// DynamoDB's rules ("Item sizes and formats"): attribute names and values in UTF-8 bytes, numbers 1
// byte per two significant digits plus 1, maps and lists 3 bytes plus 1 per element.
import { marshall } from '@aws-sdk/util-dynamodb';
import { findingsTableDefinition } from '#shared/findings/table.ts';

/** An AttributeValue as the wire carries it (after the document client's marshalling). */
type AttributeValue = Record<string, unknown>;
type WireItem = Record<string, AttributeValue>;

function valueSize(value: AttributeValue): number {
  const [type, content] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(content));
    case 'N':
      return numberSize(String(content));
    case 'B':
      return (content as Uint8Array).byteLength ?? 0;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (content as string[]).reduce((sum, s) => sum + Buffer.byteLength(s), 0);
    case 'NS':
      return (content as string[]).reduce((sum, n) => sum + numberSize(n), 0);
    case 'L':
      return 3 + (content as AttributeValue[]).reduce((sum, v) => sum + 1 + valueSize(v), 0);
    case 'M':
      return 3 + Object.entries(content as WireItem).reduce((sum, [name, v]) => sum + 1 + Buffer.byteLength(name) + valueSize(v), 0);
    default:
      return 0;
  }
}

function numberSize(text: string): number {
  const digits = text.replace(/^-/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

/** The size DynamoDB bills an item at: every attribute's name and value. */
export function itemBytes(item: WireItem): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueSize(value), 0);
}

const kbUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const text = (value: AttributeValue | undefined): string => (value && typeof value.S === 'string' ? value.S : '');

/** What a findings-table item is, by its keys (shared/findings/table.ts lists them all). */
export function itemTypeOf(key: WireItem): string {
  const pk = text(key.pk);
  const sk = text(key.sk);
  if (pk.startsWith('OBJ#')) {
    if (sk === 'STATE') return 'objectState';
    if (sk.startsWith('HIST#')) return 'history';
    if (sk.startsWith('VERSION#')) return 'noncurrentVersion';
    return 'object:other';
  }
  if (pk === 'COUNTERS') return 'counters';
  if (pk.startsWith('OUTBOX#')) return 'outbox';
  if (pk.startsWith('FEED#')) return 'changeFeed';
  if (pk.startsWith('INVENTORY#') || pk.startsWith('INVFILE#')) return 'inventoryProgress';
  if (pk === 'SCANS' || pk === 'SWEEPS' || pk === 'SWEEP' || pk.startsWith('SWEEP#')) return 'runRecord';
  if (pk === 'REMEDIATIONS' || pk.startsWith('INTENTS#')) return 'remediation';
  if (pk === 'KMSKEYS') return 'kmsKeys';
  if (pk === 'POLICIES') return 'policies';
  return `other:${pk.split('#')[0]}`;
}

export interface TypeUnits {
  items: number;
  /** Table WRU of these items (transactional items and ConditionChecks at 2 per started KB). */
  writeUnits: number;
  /** Largest and mean item size seen, bytes (Put items: the item; Update/Delete/ConditionCheck: the item as last read, if read). */
  maxBytes: number;
  meanBytes: number;
}

export interface WriteUnits {
  byItemType: Record<string, TypeUnits>;
  /** ConditionChecks, by the type of item they check (already counted in byItemType under 'conditionCheck'). */
  conditionChecksOn: Record<string, number>;
  /** The largest object state and history item put, bytes by attribute: what fills them. */
  largest: Record<string, Record<string, number>>;
  /** Index writes of the object states: one per index entry put or deleted, per started KB of the entry. */
  indexWriteUnits: number;
  /** The same writes had every index projected ALL (each write of a state rewrites each of its entries, at the item's size): the comparison. */
  indexWriteUnitsIfProjectedAll: number;
  /** Table WRU in all (sum of byItemType). */
  tableWriteUnits: number;
}

/** DynamoDB's per-entry overhead of an index entry ("Item sizes and formats": 100 bytes). */
const INDEX_ENTRY_OVERHEAD = 100;
/** The findings table's indexes as the definition makes them: their key attributes and whether they hold the keys only. */
const INDEX_MODELS = (findingsTableDefinition('bench').GlobalSecondaryIndexes ?? []).map((index) => ({
  pk: index.KeySchema!.find((k) => k.KeyType === 'HASH')!.AttributeName!,
  sk: index.KeySchema!.find((k) => k.KeyType === 'RANGE')!.AttributeName!,
  keysOnly: index.Projection?.ProjectionType === 'KEYS_ONLY',
}));

/** The size of an item's entry in an index: the whole item (ALL), or its table and index keys plus the overhead (KEYS_ONLY). */
function entryBytes(item: WireItem, index: (typeof INDEX_MODELS)[number]): number {
  if (!index.keysOnly) return itemBytes(item);
  const keys = Object.fromEntries(['pk', 'sk', index.pk, index.sk].flatMap((name) => (item[name] ? [[name, item[name]!]] : [])));
  return itemBytes(keys) + INDEX_ENTRY_OVERHEAD;
}

/**
 * Counts the write units of each write request. The object states the recorder read just before
 * (its consistent BatchGetItem) are remembered by key, so that a replaced or deleted state is
 * sized and its index entries compared with what they were.
 */
export class WriteUnitCounter {
  private readonly types = new Map<string, { items: number; writeUnits: number; maxBytes: number; totalBytes: number; sized: number }>();
  private readonly checksOn = new Map<string, number>();
  private indexUnits = 0;
  private indexUnitsIfAll = 0;
  private readonly largest = new Map<string, { bytes: number; item: WireItem }>();
  /** Object states as last read or written, by pk. */
  private readonly states = new Map<string, WireItem>();

  private add(type: string, units: number, bytes?: number): void {
    const t = this.types.get(type) ?? { items: 0, writeUnits: 0, maxBytes: 0, totalBytes: 0, sized: 0 };
    t.items += 1;
    t.writeUnits += units;
    if (bytes !== undefined) {
      t.maxBytes = Math.max(t.maxBytes, bytes);
      t.totalBytes += bytes;
      t.sized += 1;
    }
    this.types.set(type, t);
  }

  /**
   * Index writes of replacing `before` with `after` (either absent): an entry whose key changed is
   * deleted and put; one whose key stayed is rewritten under ALL and left alone under KEYS_ONLY.
   */
  private indexWrites(before: WireItem | undefined, after: WireItem | undefined): void {
    for (const index of INDEX_MODELS) {
      const { pk, sk } = index;
      const old = before?.[pk] ? `${text(before[pk])}\u0000${text(before[sk])}` : undefined;
      const now = after?.[pk] ? `${text(after[pk])}\u0000${text(after[sk])}` : undefined;
      if (old !== undefined && old !== now) this.indexUnitsIfAll += kbUnits(itemBytes(before!));
      if (now !== undefined) this.indexUnitsIfAll += kbUnits(itemBytes(after!));
      if (index.keysOnly && old === now) continue;
      if (old !== undefined && old !== now) this.indexUnits += kbUnits(entryBytes(before!, index));
      if (now !== undefined) this.indexUnits += kbUnits(entryBytes(after!, index));
    }
  }

  /**
   * Remembers the object states a read returned. Reads are seen after the document client has
   * unmarshalled them (its deserializer runs below the bench's middleware): those are marshalled
   * back, so that they are sized as DynamoDB stores them and their index keys can be compared.
   */
  read(items: (WireItem | Record<string, unknown>)[]): void {
    for (const read of items) {
      const item = (typeof read.pk === 'string' ? marshall(read, { removeUndefinedValues: true }) : read) as WireItem;
      if (itemTypeOf(item) === 'objectState') this.states.set(text(item.pk), item);
    }
  }

  private one(kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck', body: { Item?: WireItem; Key?: WireItem; ExpressionAttributeValues?: WireItem }, perKb: 1 | 2): void {
    const key = (body.Item ?? body.Key ?? {}) as WireItem;
    const type = itemTypeOf(key);
    const known = type === 'objectState' ? this.states.get(text(key.pk)) : undefined;
    let bytes: number | undefined;
    if (kind === 'Put') {
      bytes = itemBytes(body.Item!);
      if ((type === 'objectState' || type === 'history') && bytes > (this.largest.get(type)?.bytes ?? 0)) this.largest.set(type, { bytes, item: body.Item! });
    }
    else if (known) bytes = itemBytes(known);
    else if (kind === 'Update') bytes = itemBytes(key) + itemBytes(body.ExpressionAttributeValues ?? {});
    if (kind === 'ConditionCheck') {
      this.checksOn.set(type, (this.checksOn.get(type) ?? 0) + 1);
      this.add('conditionCheck', perKb * kbUnits(bytes ?? 0), bytes);
      return;
    }
    this.add(type, perKb * kbUnits(bytes ?? 0), bytes);
    if (type !== 'objectState') return;
    if (kind === 'Put') {
      this.indexWrites(known, body.Item);
      this.states.set(text(key.pk), body.Item!);
    } else if (kind === 'Delete') {
      this.indexWrites(known, undefined);
      this.states.delete(text(key.pk));
    } else if (known) {
      // An Update of a state (its chain head): ALL entries are rewritten in place, KEYS_ONLY ones are not touched.
      this.indexWrites(known, known);
    }
  }

  /** Records one request (its marshalled input) before it is sent. */
  request(operation: string, input: Record<string, unknown>): void {
    if (operation === 'TransactWriteItems') {
      for (const item of (input.TransactItems ?? []) as Record<string, Record<string, WireItem>>[]) {
        const [kind, body] = Object.entries(item)[0]!;
        this.one(kind as 'Put', body, 2);
      }
    } else if (operation === 'BatchWriteItem') {
      for (const writes of Object.values((input.RequestItems ?? {}) as Record<string, { PutRequest?: { Item: WireItem }; DeleteRequest?: { Key: WireItem } }[]>)) {
        for (const w of writes) w.PutRequest ? this.one('Put', w.PutRequest, 1) : this.one('Delete', w.DeleteRequest!, 1);
      }
    } else if (operation === 'PutItem' || operation === 'UpdateItem' || operation === 'DeleteItem') {
      this.one(operation.replace('Item', '') as 'Put', input as { Item?: WireItem; Key?: WireItem }, 1);
    }
  }

  result(): WriteUnits {
    const byItemType = Object.fromEntries(
      [...this.types].sort(([, a], [, b]) => b.writeUnits - a.writeUnits).map(([type, t]) => [type, { items: t.items, writeUnits: t.writeUnits, maxBytes: t.maxBytes, meanBytes: t.sized ? Math.round(t.totalBytes / t.sized) : 0 }]),
    );
    return {
      byItemType,
      conditionChecksOn: Object.fromEntries(this.checksOn),
      largest: Object.fromEntries(
        [...this.largest].map(([type, { item }]) => [type, Object.fromEntries(Object.entries(item).map(([name, value]): [string, number] => [name, Buffer.byteLength(name) + valueSize(value)]).sort(([, a], [, b]) => b - a))]),
      ),
      indexWriteUnits: this.indexUnits,
      indexWriteUnitsIfProjectedAll: this.indexUnitsIfAll,
      tableWriteUnits: [...this.types.values()].reduce((sum, t) => sum + t.writeUnits, 0),
    };
  }
}
