// The dashboard in a real headless Chromium (Debian's, driven by playwright-core), served by
// `sseguard serve`'s adapter over findings recorded on the emulator: the page shows the API's
// numbers, its filters and pages list what the API lists, and a screenshot is kept.
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startReportServer, type RunningReportServer } from '../../cli/commands/serve.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { loadReportApiConfig } from '../../shared/report/api-config.ts';
import { createReportApi } from '../../shared/report/create-report-api.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { seedReport } from '../support/report-fixtures.ts';

// The page's document, as far as the functions run inside the page use it (no DOM lib here).
interface PageNode {
  getAttribute(name: string): string | null;
  textContent: string | null;
}
declare const document: {
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): ArrayLike<PageNode> & Iterable<PageNode>;
  getElementById(id: string): PageNode | null;
};

const TABLE = 'report-dashboard';
const TOKEN = 'dashboard-token-0123456789abcdef0123456789';
const SCREENSHOT = 'test-results/dashboard.png';
let server: RunningReportServer;
let browser: Browser;

async function api(path: string): Promise<any> {
  const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  return response.json();
}

const pct = (value: number) => `${(Math.round(value * 10) / 10).toFixed(1)}%`;
const count = (value: number) => value.toLocaleString('en-US');
const text = (page: Page, testId: string) => page.getByTestId(testId).first().textContent();
const rowsShown = (page: Page) =>
  page.getByTestId('finding-row').evaluateAll((rows) => rows.map((row) => `${row.getAttribute('data-bucket')}/${row.getAttribute('data-key')}`));
const ids = (findings: { bucket: string; key: string }[]) => findings.map((f) => `${f.bucket}/${f.key}`);

/** Starting chromium and the report server, and driving pages, is slow on a loaded machine. */
const BROWSER_SETUP_TIMEOUT_MS = 120_000;
const BROWSER_TEST_TIMEOUT_MS = 90_000;

beforeAll(async () => {
  process.env.SSEGUARD_TABLE = TABLE;
  const clients = createAwsClients();
  await ensureFindingsTable(clients.dynamodb, TABLE);
  await seedReport(new DynamoFindingsStore(clients.documents, TABLE));
  const reportApi = createReportApi(createRuntime(loadConfig()), loadReportApiConfig({ SSEGUARD_API_TOKEN: TOKEN }));
  server = await startReportServer(reportApi, { port: 0, host: '127.0.0.1' }, () => {});
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, BROWSER_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await server?.close();
}, BROWSER_SETUP_TIMEOUT_MS);

test('the page shows the numbers the API serves, and takes the token from the fragment without keeping it', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${server.url}/#token=${TOKEN}`);
  await page.waitForSelector('body[data-ready=true]');
  expect(page.url()).toBe(`${server.url}/`);

  const summary = await api('/summary');
  expect(await text(page, 'overall-compliance')).toBe(pct(summary.overall.compliancePercent));
  expect(await text(page, 'overall-objects')).toBe(count(summary.overall.objects));
  for (const [verdict, n] of Object.entries(summary.overall.verdicts)) expect(await text(page, `verdict-count-${verdict}`), verdict).toBe(count(n as number));
  for (const [mode, n] of Object.entries(summary.overall.modes)) expect(await text(page, `mode-count-${mode}`), mode).toBe(count(n as number));

  const buckets = await page.getByTestId('bucket-row').evaluateAll((rows) =>
    rows.map((row) => [row.getAttribute('data-bucket'), row.querySelector('[data-testid=bucket-compliance]')!.textContent, row.querySelector('[data-testid=bucket-objects]')!.textContent]),
  );
  expect(buckets.sort()).toEqual(summary.buckets.map((b: any) => [b.bucket, pct(b.compliancePercent), count(b.objects)]).sort());

  const atRisk = await page.getByTestId('atrisk-key-row').evaluateAll((rows) => rows.map((row) => [row.getAttribute('data-arn'), row.querySelector('[data-testid=atrisk-objects]')!.textContent]));
  expect(atRisk).toEqual(summary.atRiskKeys.map((k: any) => [k.arn, count(k.objects)]));
  expect(await text(page, 'last-sweep')).toContain(summary.lastSweep.bucket);
  expect(await page.getByTestId('trend-point').count()).toBe(summary.trend.length);
  expect(await page.getByTestId('remediations-empty').isVisible()).toBe(true);

  // The first page of findings is the API's first page.
  expect(await rowsShown(page)).toEqual(ids((await api('/findings?limit=50')).findings));
  mkdirSync('test-results', { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  expect(errors).toEqual([]);
  await page.close();
}, BROWSER_TEST_TIMEOUT_MS);

test('filters and pages list what the API lists; a row opens the object history', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${server.url}/#token=${TOKEN}`);
  await page.waitForSelector('body[data-ready=true]');

  await page.getByTestId('filter-verdict').selectOption('at-risk');
  await page.getByTestId('apply-filters').click();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=finding-row]')].every((row) => row.getAttribute('data-verdict') === 'at-risk'));
  expect(await rowsShown(page)).toEqual(ids((await api('/findings?verdict=at-risk&limit=50')).findings));

  await page.getByTestId('filter-bucket').selectOption('gamma-bucket');
  await page.getByTestId('filter-prefix').fill('finance/');
  await page.getByTestId('filter-verdict').selectOption('');
  await page.getByTestId('filter-mode').selectOption('sse-kms');
  await page.getByTestId('apply-filters').click();
  const expected = ids((await api('/findings?bucket=gamma-bucket&prefix=finance%2F&mode=sse-kms&limit=50')).findings);
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid=finding-row]').length === n && !document.querySelector('[data-verdict=at-risk][data-bucket=alpha-bucket]'), expected.length);
  expect(await rowsShown(page)).toEqual(expected);

  // Pages: clear the filters, 25 per page, second page equals the API's second page.
  await page.getByTestId('filter-bucket').selectOption('');
  await page.getByTestId('filter-prefix').fill('');
  await page.getByTestId('filter-mode').selectOption('');
  await page.locator('select[name=limit]').selectOption('25');
  await page.getByTestId('apply-filters').click();
  const first = await api('/findings?limit=25');
  await page.waitForFunction((key) => document.querySelector('[data-testid=finding-row]')?.getAttribute('data-key') === key && document.querySelectorAll('[data-testid=finding-row]').length === 25, first.findings[0].key);
  await page.getByTestId('next-page').click();
  const second = await api(`/findings?limit=25&cursor=${first.nextCursor}`);
  await page.waitForFunction((key) => document.querySelector('[data-testid=finding-row]')?.getAttribute('data-key') === key, second.findings[0].key);
  expect(await rowsShown(page)).toEqual(ids(second.findings));

  // An object with an awkward key: its history opens.
  await page.getByTestId('filter-bucket').selectOption('odd-keys');
  await page.getByTestId('apply-filters').click();
  const odd = page.locator('[data-testid=finding-row][data-key="q?x#y&z=1"]');
  await odd.click();
  await page.getByTestId('object-history').waitFor();
  expect(await page.getByTestId('object-history').locator('tbody tr').count()).toBe(1);
  await page.close();
}, BROWSER_TEST_TIMEOUT_MS);

test('without a token the page asks for one, and a wrong token is refused with the reason', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/`);
  await page.locator('#token-input').waitFor();
  await page.locator('#token-input').fill('not-the-token');
  await page.getByRole('button', { name: 'Open dashboard' }).click();
  await page.waitForFunction(() => /refused the token/.test(document.getElementById('login-error')!.textContent ?? ''));
  expect(await page.locator('#app').isHidden()).toBe(true);
  await page.close();
}, BROWSER_TEST_TIMEOUT_MS);
