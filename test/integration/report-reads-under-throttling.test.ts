// The findings table's one read side (shared/findings/: reader.ts, findings-query.ts,
// posture-reader.ts) retries throttling with the writers' policy (dynamodb-writes.ts withRetries), on
// top of the SDK's own attempts: the report API answers the same through a burst of throttled Query,
// GetItem and BatchGetItem requests longer than the SDK's attempts, instead of a 500.
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { createAwsClients, DEFAULT_TIMEOUTS } from '../../shared/aws/clients.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { loadReportApiConfig } from '../../shared/report/api-config.ts';
import type { ReportApi } from '../../shared/report/api.ts';
import { bodyText, createReportApi } from '../../shared/report-api/create-report-api.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { seedReport } from '../support/report-fixtures.ts';

const TABLE = 'report-reads-throttled';
const TOKEN = 'report-reads-throttled-0123456789abcdef0123456789';
const emulator = inject('emulatorEndpoint');
let proxy: FaultProxy;
let direct: ReportApi;
let throughProxy: ReportApi;

async function get(api: ReportApi, rawPath: string, rawQuery = '') {
  const response = await api.handle({ method: 'GET', rawPath, rawQuery, headers: { authorization: `Bearer ${TOKEN}` } });
  // The moment of the answer is the one thing that differs between two reads of the same table.
  const { generatedAt: _at, ...body } = JSON.parse(await bodyText(response.body)) as Record<string, unknown>;
  return { status: response.status, body };
}

beforeAll(async () => {
  proxy = await startFaultProxy({ target: emulator, seed: 11 });
  const clients = createAwsClients({ endpoint: emulator });
  await ensureFindingsTable(clients.dynamodb, TABLE);
  await seedReport(new DynamoFindingsStore(clients.documents, TABLE));
  const apiConfig = loadReportApiConfig({ SSEGUARD_API_TOKEN: TOKEN });
  direct = createReportApi({ clients, config: { table: TABLE, region: 'us-east-1' } }, apiConfig);
  throughProxy = createReportApi({ clients: createAwsClients({ endpoint: proxy.endpoint }), config: { table: TABLE, region: 'us-east-1' } }, apiConfig);
});

afterAll(async () => {
  await proxy?.close();
});

// More throttled answers in a row than the SDK makes attempts: only a retry above the SDK gets through.
const BURST = DEFAULT_TIMEOUTS.maxAttempts + 2;

test.each([
  ['summary (counters and key facts: Query)', '/summary', '', 'Query'],
  ['findings listing (index Query)', '/findings', 'limit=5', 'Query'],
  // byVerdict holds keys only: the listed states are read from the table by BatchGetItem.
  ['findings listing by verdict (the listed states by BatchGetItem)', '/findings', 'verdict=noncompliant&limit=5', 'BatchGetItem'],
  ['one object (state by GetItem)', '/objects/alpha-bucket/logs/000.dat', '', 'GetItem'],
  ['one object (history by Query)', '/objects/alpha-bucket/logs/000.dat', '', 'Query'],
])("%s: the same answer through more throttled requests in a row than the SDK's attempts", async (_name, path, query, operation) => {
  const expected = await get(direct, path, query);
  expect(expected.status).toBe(200);
  proxy.setRules([{ service: 'dynamodb', operation, rate: 1, kind: 'throttle', times: BURST }]);
  proxy.resetStats();
  try {
    const answered = await get(throughProxy, path, query);
    expect(proxy.stats().faults[`dynamodb:${operation}:throttle`]).toBe(BURST);
    expect(answered).toEqual(expected);
  } finally {
    proxy.setRules([]);
  }
});
