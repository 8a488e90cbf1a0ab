// Every paged read of the findings table goes through one helper (dynamodb-writes.ts queryPages /
// queryAll) under the writers' retry policy, on top of the SDK's own attempts: a burst of throttled
// Query answers longer than the SDK's attempts costs time, never a page or the whole read.
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { createAwsClients, DEFAULT_TIMEOUTS, type AwsClients } from '../../shared/aws/clients.ts';
import { ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { batchPut, queryAll } from '../../shared/findings/dynamodb-writes.ts';
import { InventoryFileCheckpoints } from '../../shared/findings/inventory-checkpoints.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';

const TABLE = 'paged-reads-throttled';
const emulator = inject('emulatorEndpoint');
const direct = createAwsClients({ endpoint: emulator });
let proxy: FaultProxy;
let throughProxy: AwsClients;

// More throttled answers in a row than the SDK makes attempts: only a retry above the SDK gets through.
const BURST = DEFAULT_TIMEOUTS.maxAttempts + 1;

beforeAll(async () => {
  proxy = await startFaultProxy({ target: emulator, seed: 7 });
  throughProxy = createAwsClients({ endpoint: proxy.endpoint });
  await ensureFindingsTable(direct.dynamodb, TABLE);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
});

/** Runs `read` with the first BURST Queries throttled; the faults it met are checked. */
async function throughThrottling<T>(read: () => Promise<T>): Promise<T> {
  proxy.setRules([{ service: 'dynamodb', operation: 'Query', rate: 1, kind: 'throttle', times: BURST }]);
  proxy.resetStats();
  try {
    const answer = await read();
    expect(proxy.stats().faults['dynamodb:Query:throttle']).toBe(BURST);
    return answer;
  } finally {
    proxy.setRules([]);
  }
}

test("queryAll reads every page of a partition (5 items, 2 a page) through more throttled Queries in a row than the SDK's attempts", async () => {
  await batchPut(direct.documents, TABLE, ['a', 'b', 'c', 'd', 'e'].map((sk) => ({ pk: 'PAGED#all', sk })));
  const input = { TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'PAGED#all' }, Limit: 2, ConsistentRead: true };
  const items = await throughThrottling(() => queryAll(throughProxy.documents, input));
  expect(items.map((item) => item.sk)).toEqual(['a', 'b', 'c', 'd', 'e']);
  // Three pages (2 + 2 + 1), each asked once it got through.
  expect(proxy.stats().forwarded['dynamodb:Query']).toBe(3);
});

test("an inventory report's totals (its data files' checkpoints) read the same through more throttled Queries in a row than the SDK's attempts", async () => {
  const manifestKey = 'reports/source/sseguard/2026-12-01T01-00Z/manifest.json';
  const written = new InventoryFileCheckpoints(direct.documents, TABLE);
  const at = new Date().toISOString();
  expect(await written.advance(manifestKey, 'data/1.csv.gz', 0, 5, at, ['a', 'b'])).toBe(true);
  expect(await written.advance(manifestKey, 'data/2.csv.gz', 0, 7, at, ['c'])).toBe(true);
  const totals = await throughThrottling(() => new InventoryFileCheckpoints(throughProxy.documents, TABLE).reportTotals(manifestKey));
  expect({ rows: totals.rows, sampleKeys: totals.sampleKeys.sort() }).toEqual({ rows: 12, sampleKeys: ['a', 'b', 'c'] });
});
