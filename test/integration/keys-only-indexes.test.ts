// The findings table's indexes project keys only: the emulator answers an index Query with keys
// alone, and every reader still returns whole findings, in index order, read from the table by key.
// Between the index page and the read of its items another writer may change or delete an item:
// each race is driven here by a reader whose index Query runs the other writer's change right
// after the index answered (a subclass overriding the reader's own Query step, no SDK mock).
import { CreateTableCommand, DescribeTableCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, QueryCommand, type QueryCommandInput, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import type { Finding } from '../../shared/domain/finding.ts';
import type { PostureFinding } from '../../shared/domain/posture-finding.ts';
import type { Verdict } from '../../shared/domain/verdict.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { FindingsReader, type FindingsQuery } from '../../shared/findings/findings-query.ts';
import { PostureReader } from '../../shared/findings/posture-reader.ts';
import { PostureStore } from '../../shared/findings/posture-store.ts';
import { FindingsTableReader, type Item } from '../../shared/findings/reader.ts';
import { findingsTableDefinition, INDEXES, objectPk, posturePk, POSTURE_SK, STATE_SK } from '../../shared/findings/table.ts';

const clients = createAwsClients();
const TABLE = 'keys-only-indexes';
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1111aaaa-1111-4111-8111-111111111111';
const store = new DynamoFindingsStore(clients.documents, TABLE);
const postures = new PostureStore(clients.documents, TABLE);

function finding(bucket: string, key: string, verdict: Verdict, auditedAt: string, extra: Partial<Finding> = {}): Finding {
  return { bucket, key, size: 7, mode: 'sse-kms', kmsKeyArn: KEY, verdict, reasons: [], remediate: false, auditedAt, ...extra } as Finding;
}

function posture(bucket: string, verdict: Verdict, auditedAt: string): PostureFinding {
  return {
    bucket, verdict, reasons: [], remediate: false, auditedAt,
    defaultEncryption: { status: 'configured', mode: 'sse-s3' }, sseC: 'blocked', policy: 'none', tls: 'not-enforced', unencryptedPuts: 'allowed', notes: [],
  };
}

const keysOf = (pages: { key: string }[][]) => pages.flat().map((f) => f.key);
async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[][]> {
  const all: T[][] = [];
  for await (const page of pages) all.push(page);
  return all;
}

/** What another writer does once, right after the first index page was answered. */
type Race = () => Promise<void>;
const once = (race: Race | undefined) => {
  let pending = race;
  return async () => {
    const run = pending;
    pending = undefined;
    await run?.();
  };
};

class RacingFindingsReader extends FindingsReader {
  constructor(private readonly race: () => Promise<void>) {
    super(clients.documents, TABLE, () => store.recordedBuckets());
  }
  protected override async queryIndex(input: QueryCommandInput): Promise<QueryCommandOutput> {
    const page = await super.queryIndex(input);
    await this.race();
    return page;
  }
}

class RacingTableReader extends FindingsTableReader {
  constructor(private readonly race: () => Promise<void>) {
    super(clients.documents, TABLE);
  }
  protected override async *queryItems(input: Omit<QueryCommandInput, 'TableName'>): AsyncIterable<Item[]> {
    for await (const page of super.queryItems(input)) {
      if (input.IndexName) await this.race();
      yield page;
    }
  }
}

class RacingPostureReader extends PostureReader {
  constructor(private readonly race: () => Promise<void>) {
    super(clients.documents, TABLE);
  }
  protected override async *query(input: Omit<QueryCommandInput, 'TableName'>): AsyncIterable<Item[]> {
    for await (const page of super.query(input)) {
      if (input.IndexName) await this.race();
      yield page;
    }
  }
}

const deleteState = (bucket: string, key: string) => async () => {
  await clients.documents.send(new DeleteCommand({ TableName: TABLE, Key: { pk: objectPk(bucket, key), sk: STATE_SK } }));
};
const reaudit = (bucket: string, key: string, verdict: Verdict, auditedAt: string) => async () => {
  await store.record([finding(bucket, key, verdict, auditedAt)]);
};

beforeAll(async () => {
  expect(await ensureFindingsTable(clients.dynamodb, TABLE)).toBe('created');
});

test('the table is made with keys-only byVerdict and byKmsKey indexes (byBucket projects ALL), and the emulator answers a keys-only index Query with keys alone', async () => {
  const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: TABLE }));
  expect(Object.fromEntries((Table!.GlobalSecondaryIndexes ?? []).map((i) => [i.IndexName, i.Projection?.ProjectionType]))).toEqual({
    byVerdict: 'KEYS_ONLY', byBucket: 'ALL', byKmsKey: 'KEYS_ONLY',
  });
  await store.record([finding('projection', 'a.txt', 'compliant', '2026-12-01T00:00:00.000Z', { account: '123456789012', region: 'us-east-1' })]);
  const { Items } = await clients.documents.send(
    new QueryCommand({ TableName: TABLE, IndexName: 'byVerdict', KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': INDEXES.byVerdict.pk }, ExpressionAttributeValues: { ':pk': 'compliant#projection' } }),
  );
  expect(Items).toHaveLength(1);
  expect(Object.keys(Items![0]!).sort()).toEqual(['pk', 'sk', 'verdictPk', 'verdictSk']);
});

describe('every reader still returns whole findings, in index key order', () => {
  const bucket = 'whole';
  // More than one BatchGetItem (100 keys) per listing, recorded out of key order.
  const keys = Array.from({ length: 130 }, (_, i) => `obj-${String(i).padStart(4, '0')}`);
  beforeAll(async () => {
    const shuffled = [...keys].sort((a, b) => (a.split('').reverse().join('') < b.split('').reverse().join('') ? -1 : 1));
    await store.record(shuffled.map((key) => finding(bucket, key, keys.indexOf(key) % 3 === 0 ? 'noncompliant' : 'compliant', '2026-12-01T00:00:00.000Z', { account: '123456789012', region: 'us-east-1', policy: { hash: 'p1', version: 1 } } as Partial<Finding>)));
  });

  test('the store listing (byBucket, byVerdict, byKmsKey) returns full states in key order', async () => {
    const all = (await collect(store.findings({ bucket }))).flat();
    expect(all.map((f) => f.key)).toEqual(keys);
    expect(all[0]).toMatchObject({ bucket, key: 'obj-0000', size: 7, mode: 'sse-kms', kmsKeyArn: KEY, verdict: 'noncompliant', auditedAt: '2026-12-01T00:00:00.000Z', account: '123456789012', rev: 1 });
    expect(all[0]).not.toHaveProperty('pk');
    expect(all[0]).not.toHaveProperty(INDEXES.byBucket.pk);
    const noncompliant = keys.filter((_, i) => i % 3 === 0);
    expect(keysOf(await collect(store.findings({ bucket, verdict: 'noncompliant' })))).toEqual(noncompliant);
    expect(keysOf(await collect(store.findings({ bucket, kmsKeyArn: KEY, verdict: 'noncompliant' })))).toEqual(noncompliant);
    expect(keysOf(await collect(store.findings({ bucket, account: '999999999999' })))).toEqual([]);
  });

  test('the report listing returns full states in key order, its filters applied to the items read', async () => {
    const reader = new FindingsReader(clients.documents, TABLE, () => store.recordedBuckets());
    const first = await reader.page({ bucket }, 120);
    expect(first.findings.map((f) => f.key)).toEqual(keys.slice(0, 120));
    expect(first.findings[5]).toMatchObject({ size: 7, mode: 'sse-kms', verdict: 'compliant', region: 'us-east-1' });
    const rest = await reader.page({ bucket }, 120, first.next);
    expect(rest.findings.map((f) => f.key)).toEqual(keys.slice(120));
    expect(rest.next).toBeUndefined();
    const query: FindingsQuery = { bucket, kmsKeyArn: KEY, verdict: 'noncompliant', mode: 'sse-kms', account: '123456789012', region: 'us-east-1' };
    expect((await reader.page(query, 1000)).findings.map((f) => f.key)).toEqual(keys.filter((_, i) => i % 3 === 0));
    expect((await reader.page({ bucket, mode: 'sse-s3' }, 1000)).findings).toEqual([]);
    expect((await reader.page({ bucket, mode: 'unknown' }, 1000)).findings).toEqual([]);
    expect((await reader.page({ bucket, region: 'eu-west-1' }, 1000)).findings).toEqual([]);
  });

  test('the policies of a scope are counted from the bucket index (it projects ALL: the policy attribute alone is read)', async () => {
    expect(Object.fromEntries(await store.policiesIn(bucket))).toEqual({ p1: 130 });
    expect(Object.fromEntries(await store.policiesIn(bucket, 'obj-001'))).toEqual({ p1: 10 });
  });

  test('bucket postures are listed whole, by verdict too', async () => {
    await postures.record(posture('posture-b', 'noncompliant', '2026-12-01T00:00:00.000Z'));
    await postures.record(posture('posture-a', 'compliant', '2026-12-01T00:00:00.000Z'));
    const listed = (await collect(postures.list())).flat();
    expect(listed.map((p) => p.bucket)).toEqual(['posture-a', 'posture-b']);
    expect(listed[0]).toMatchObject({ verdict: 'compliant', sseC: 'blocked', defaultEncryption: { status: 'configured', mode: 'sse-s3' }, rev: 1 });
    expect((await collect(postures.list({ verdict: 'noncompliant' }))).flat().map((p) => p.bucket)).toEqual(['posture-b']);
  });
});

describe('an item changed or deleted between the index page and the read of its items', () => {
  const at = '2026-12-02T00:00:00.000Z';
  const later = '2026-12-02T01:00:00.000Z';
  let n = 0;
  /** A bucket of its own per race: three objects, all noncompliant. */
  async function seeded(): Promise<string> {
    const bucket = `race-${n++}`;
    await store.record(['a', 'b', 'c'].map((key) => finding(bucket, key, 'noncompliant', at)));
    return bucket;
  }

  test('the report listing by verdict leaves out an object whose verdict changed since the index listed it', async () => {
    const bucket = await seeded();
    const reader = new RacingFindingsReader(once(reaudit(bucket, 'b', 'compliant', later)));
    expect((await reader.page({ bucket, verdict: 'noncompliant' }, 10)).findings.map((f) => f.key)).toEqual(['a', 'c']);
  });

  test('the report listing by key and verdict leaves out an object whose verdict changed since', async () => {
    const bucket = await seeded();
    const reader = new RacingFindingsReader(once(reaudit(bucket, 'a', 'compliant', later)));
    expect((await reader.page({ bucket, kmsKeyArn: KEY, verdict: 'noncompliant' }, 10)).findings.map((f) => f.key)).toEqual(['b', 'c']);
  });

  test('the report listing by verdict leaves out an object deleted since the index listed it', async () => {
    const bucket = await seeded();
    const reader = new RacingFindingsReader(once(deleteState(bucket, 'c')));
    expect((await reader.page({ bucket, verdict: 'noncompliant' }, 10)).findings.map((f) => f.key)).toEqual(['a', 'b']);
  });

  test('the store listing by verdict leaves out a changed verdict and a deleted object', async () => {
    const bucket = await seeded();
    const race = once(async () => {
      await reaudit(bucket, 'a', 'compliant', later)();
      await deleteState(bucket, 'c')();
    });
    expect(keysOf(await collect(new RacingTableReader(race).findings({ bucket, verdict: 'noncompliant' })))).toEqual(['b']);
  });

  test('the store listing by KMS key leaves out an object re-encrypted under another key since', async () => {
    const bucket = await seeded();
    const race = once(async () => {
      await store.record([finding(bucket, 'b', 'compliant', later, { mode: 'sse-s3', kmsKeyArn: undefined })]);
    });
    expect(keysOf(await collect(new RacingTableReader(race).findings({ kmsKeyArn: KEY, bucket })))).toEqual(['a', 'c']);
  });


  test('the posture listing by verdict leaves out a bucket whose verdict changed, and one deleted', async () => {
    await postures.record(posture('race-posture-1', 'at-risk', at));
    await postures.record(posture('race-posture-2', 'at-risk', at));
    await postures.record(posture('race-posture-3', 'at-risk', at));
    const race = once(async () => {
      await postures.record(posture('race-posture-1', 'compliant', later));
      await clients.documents.send(new DeleteCommand({ TableName: TABLE, Key: { pk: posturePk('race-posture-3'), sk: POSTURE_SK } }));
    });
    expect((await collect(new RacingPostureReader(race).list({ verdict: 'at-risk' }))).flat().map((p) => p.bucket)).toEqual(['race-posture-2']);
  });
});

test('a table made by the version whose indexes projected ALL is migrated: keys-only byVerdict and byKmsKey (byBucket left as it was), its findings still listed', async () => {
  const table = 'keys-only-migration';
  const previous = findingsTableDefinition(table);
  for (const index of previous.GlobalSecondaryIndexes!) index.Projection = { ProjectionType: 'ALL' };
  await clients.dynamodb.send(new CreateTableCommand(previous));
  const old = new DynamoFindingsStore(clients.documents, table);
  await old.record([finding('migrated', 'x', 'at-risk', '2026-12-01T00:00:00.000Z'), finding('migrated', 'y', 'compliant', '2026-12-01T00:00:00.000Z')]);

  expect(await ensureFindingsTable(clients.dynamodb, table)).toBe('migrated');
  const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: table }));
  expect((Table!.GlobalSecondaryIndexes ?? []).map((i) => [i.IndexName, i.Projection?.ProjectionType, i.IndexStatus]).sort()).toEqual([
    ['byBucket', 'ALL', 'ACTIVE'], ['byKmsKey', 'KEYS_ONLY', 'ACTIVE'], ['byVerdict', 'KEYS_ONLY', 'ACTIVE'],
  ]);
  expect((await collect(old.findings({ bucket: 'migrated', verdict: 'at-risk' }))).flat()).toMatchObject([{ key: 'x', size: 7, kmsKeyArn: KEY }]);
  expect(keysOf(await collect(old.findings({ kmsKeyArn: KEY })))).toEqual(['x', 'y']);
  expect(await ensureFindingsTable(clients.dynamodb, table)).toBe('exists');
});

test('while an index is away (deleted for its migration, not yet made again) a listing through it fails loudly, never answers empty; init finishes the migration', async () => {
  const table = 'keys-only-index-away';
  expect(await ensureFindingsTable(clients.dynamodb, table)).toBe('created');
  const away = new DynamoFindingsStore(clients.documents, table);
  await away.record([finding('away', 'x', 'at-risk', '2026-12-01T00:00:00.000Z')]);
  await new PostureStore(clients.documents, table).record(posture('away', 'at-risk', '2026-12-01T00:00:00.000Z'));
  await clients.dynamodb.send(new UpdateTableCommand({ TableName: table, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'byVerdict' } }] }));
  await expect(collect(away.findings({ bucket: 'away', verdict: 'at-risk' }))).rejects.toThrow(/index/i);
  await expect(new FindingsReader(clients.documents, table, () => away.recordedBuckets()).page({ verdict: 'at-risk' }, 10)).rejects.toThrow(/index/i);
  await expect(collect(new PostureReader(clients.documents, table).list({ verdict: 'at-risk' }))).rejects.toThrow(/index/i);
  // The other indexes still answer.
  expect(keysOf(await collect(away.findings({ bucket: 'away' })))).toEqual(['x']);
  // A migration interrupted here is finished by the next `init`: the index made again, keys only.
  expect(await ensureFindingsTable(clients.dynamodb, table)).toBe('migrated');
  expect(keysOf(await collect(away.findings({ bucket: 'away', verdict: 'at-risk' })))).toEqual(['x']);
  expect((await collect(new PostureReader(clients.documents, table).list({ verdict: 'at-risk' }))).flat().map((p) => p.bucket)).toEqual(['away']);
});
