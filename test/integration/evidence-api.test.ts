// GET /evidence on the report API (the same router and auth as every route), over findings recorded
// on the emulator: the pack's population is the summary's, asOf reconstructs from the history, bad
// parameters are 400 and no token is 401.
import { beforeAll, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { loadReportApiConfig } from '../../shared/report/api-config.ts';
import type { ReportApi } from '../../shared/report/api.ts';
import { bodyText, createReportApi } from '../../shared/report-api/create-report-api.ts';
import { seedReport } from '../support/report-fixtures.ts';

const TABLE = 'evidence-api';
const TOKEN = 'evidence-api-token-0123456789abcdef0123456789';
let api: ReportApi;

async function get(rawQuery: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) {
  const response = await api.handle({ method: 'GET', rawPath: '/evidence', rawQuery, headers });
  return { status: response.status, body: JSON.parse(await bodyText(response.body)) as Record<string, any> };
}

beforeAll(async () => {
  const clients = createAwsClients();
  await ensureFindingsTable(clients.dynamodb, TABLE);
  await seedReport(new DynamoFindingsStore(clients.documents, TABLE));
  api = createReportApi({ clients, config: { table: TABLE, region: 'us-east-1' } }, loadReportApiConfig({ SSEGUARD_API_TOKEN: TOKEN }));
});

test('the pack document: population equals the counters, chains hold, the API says it is unsigned', async () => {
  const summary = JSON.parse(await bodyText((await api.handle({ method: 'GET', rawPath: '/summary', rawQuery: '', headers: { authorization: `Bearer ${TOKEN}` } })).body));
  const { status, body } = await get('');
  expect(status).toBe(200);
  expect(body.population.objects).toBe(summary.overall.objects);
  expect(body.population.bytes).toBe(summary.overall.bytes);
  for (const [verdict, n] of Object.entries(summary.overall.verdicts)) expect(body.population.byVerdict[verdict].objects, verdict).toBe(n);
  expect(body.chains.problems).toEqual([]);
  expect(body.gaps.at(-1)).toContain('unsigned');
});

test('asOf before anything was recorded: nothing known then; a bad asOf or window is 400; no token is 401', async () => {
  const before = await get(`asOf=${encodeURIComponent('2020-01-01T00:00:00Z')}`);
  expect(before.status).toBe(200);
  expect(before.body.population.objects).toBe(0);
  expect(before.body.population.unknownAsOf.objects).toBeGreaterThan(0);
  expect((await get('asOf=yesterday')).status).toBe(400);
  expect((await get('window=90')).status).toBe(400);
  expect((await get(`asOf=${encodeURIComponent('2999-01-01T00:00:00Z')}`)).status).toBe(400);
  expect((await get('', {})).status).toBe(401);
});
