// The dashboard in a real headless Chromium (Debian's, driven by playwright-core), served by
// `sseguard serve`'s adapter over findings recorded on the emulator: the page shows the API's
// numbers, its filters and pages list what the API lists; a failed or unreachable API shows a
// banner and cards that say so; a real `scan --remediate` reads as words. Screenshots of the
// healthy, failed-backend and after-remediation states go to $SSEGUARD_SCREENSHOTS
// (`npm run screenshots` writes docs/screenshots/), else test-results/screenshots/.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startReportServer, type RunningReportServer } from '../../cli/commands/serve.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { DynamoFindingsStore, ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { loadReportApiConfig } from '../../shared/report/api-config.ts';
import { createReportApi } from '../../shared/report-api/create-report-api.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { launchChromium } from '../support/browser.ts';
import { createBucket, createKey, putObject } from '../support/aws-fixtures.ts';
import { runCli } from '../support/cli.ts';
import { finding, KEY_DISABLED, seedReport } from '../support/report-fixtures.ts';
import type { Finding } from '../../shared/domain/finding.ts';

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
const SCREENSHOTS = process.env.SSEGUARD_SCREENSHOTS ?? 'test-results/screenshots';
let server: RunningReportServer;
/** The same API over a table that does not exist: every data route answers 500. */
let broken: RunningReportServer;
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

/** The page down to the end of the remediations card (the findings table below is long): small PNGs. */
async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const box = await page.locator('section[aria-labelledby=h-remediations]').boundingBox();
  const height = Math.ceil((box?.y ?? 0) + (box?.height ?? 900) + 16);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true, clip: { x: 0, y: 0, width: page.viewportSize()?.width ?? 1280, height } });
}

/** Starting chromium and the report server, and driving pages, is slow on a loaded machine. */
const BROWSER_SETUP_TIMEOUT_MS = 120_000;
const BROWSER_TEST_TIMEOUT_MS = 90_000;

beforeAll(async () => {
  process.env.SSEGUARD_TABLE = TABLE;
  const clients = createAwsClients();
  await ensureFindingsTable(clients.dynamodb, TABLE);
  const store = new DynamoFindingsStore(clients.documents, TABLE);
  await seedReport(store);
  // Two more runs of alpha-bucket: one later the same day (its date alone would repeat), and one that
  // audited nothing (a mistyped prefix), which must not be plotted.
  await store.recordScan({ id: 'run-4', bucket: 'alpha-bucket', prefix: '', startedAt: '2026-11-20T14:00:00.000Z', finishedAt: '2026-11-20T14:05:00.000Z', objects: 45, verdicts: { compliant: 40, noncompliant: 5 } });
  await store.recordScan({ id: 'run-5', bucket: 'alpha-bucket', prefix: 'finanse/', startedAt: '2026-11-20T15:00:00.000Z', finishedAt: '2026-11-20T15:00:01.000Z', objects: 0, verdicts: {} });
  const runtime = createRuntime(loadConfig());
  // `scan --remediate` (the after-remediation state) makes each fix once, through the idempotency table.
  await ensureIdempotencyTable(clients.dynamodb, runtime.config.idempotencyTable);
  const reportApi = createReportApi(runtime, loadReportApiConfig({ SSEGUARD_API_TOKEN: TOKEN }));
  server = await startReportServer(reportApi, { port: 0, host: '127.0.0.1' }, () => {});
  const brokenApi = createReportApi({ ...runtime, config: { ...runtime.config, table: 'no-such-table' } }, loadReportApiConfig({ SSEGUARD_API_TOKEN: TOKEN }), () => {});
  broken = await startReportServer(brokenApi, { port: 0, host: '127.0.0.1' }, () => {});
  browser = await launchChromium();
}, BROWSER_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await broken?.close();
}, BROWSER_SETUP_TIMEOUT_MS);

test('the page shows the numbers the API serves, and takes the token from the fragment without keeping it', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
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
  expect(await page.getByTestId('remediations-empty').isVisible()).toBe(true);
  expect(await page.getByTestId('error-banner').isHidden()).toBe(true);
  expect(await page.getByTestId('card-unavailable').count()).toBe(0);

  // The trend shows one scope, the one run last (alpha-bucket), and not the run that audited nothing.
  expect(await page.getByTestId('trend-scope').inputValue()).toBe('alpha-bucket');
  expect(summary.trend.map((run: any) => run.id)).not.toContain('run-5');
  const alphaRuns = summary.trend.filter((run: any) => run.scope === 'alpha-bucket');
  expect(alphaRuns.map((run: any) => run.id)).toEqual(['run-1', 'run-3', 'run-4']);
  expect(await page.getByTestId('trend-point').count()).toBe(alphaRuns.length);
  // Two runs on 2026-11-20: the labels carry the time, and no two are the same.
  const labels = await page.getByTestId('trend-label').allTextContents();
  expect(labels.length).toBeGreaterThanOrEqual(2);
  expect(new Set(labels).size).toBe(labels.length);
  expect(labels.at(-1)).toBe('2026-11-20 14:05 UTC');
  await page.getByTestId('trend-scope').selectOption('beta-bucket');
  expect(await page.getByTestId('trend-point').count()).toBe(1);
  expect(await page.getByTestId('trend-label').allTextContents()).toEqual(['2026-11-19']);
  await page.getByTestId('trend-scope').selectOption('alpha-bucket');

  // The first page of findings is the API's first page.
  expect(await rowsShown(page)).toEqual(ids((await api('/findings?limit=50')).findings));
  await screenshot(page, 'healthy');
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

test('an API answering 500 shows the error banner, and every card says it has no data instead of looking empty', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${broken.url}/#token=${TOKEN}`);
  await page.waitForSelector('body[data-ready=true]');
  expect(await page.locator('body').getAttribute('data-state')).toBe('error');
  expect(await page.getByTestId('error-banner').isVisible()).toBe(true);
  const lines = await page.getByTestId('error-line').allTextContents();
  expect(lines.map((line) => line.split(':')[0])).toEqual(expect.arrayContaining(['Could not load /summary', 'Could not load /keys', 'Could not load /findings']));
  for (const line of lines) expect(line).toContain('HTTP 500');
  // No card reads as "nothing there": none of the empty states, no 100% of nothing.
  expect(await page.getByTestId('card-unavailable').count()).toBeGreaterThanOrEqual(9);
  for (const empty of ['atrisk-empty', 'remediations-empty', 'findings-empty', 'trend-empty']) expect(await page.getByTestId(empty).count(), empty).toBe(0);
  expect(await page.getByText('100.0%').count()).toBe(0);
  await screenshot(page, 'failed-backend');
  expect(errors).toEqual([]);
  await page.close();
}, BROWSER_TEST_TIMEOUT_MS);

test('an unreachable API (connection refused) says the API did not answer', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // The page itself loads; every API call then finds nothing listening.
  await page.route(/\/(summary|keys|findings)(\?|$)/, (route) => route.abort('connectionrefused'));
  await page.goto(`${server.url}/#token=${TOKEN}`);
  await page.waitForSelector('body[data-ready=true]');
  const lines = await page.getByTestId('error-line').allTextContents();
  expect(lines).toHaveLength(3);
  for (const line of lines) expect(line).toMatch(/^Could not load \/(summary|keys|findings): the report API did not answer/);
  expect(await page.getByTestId('atrisk-empty').count()).toBe(0);
  expect(await page.getByTestId('card-unavailable').count()).toBeGreaterThanOrEqual(9);
  await page.close();
}, BROWSER_TEST_TIMEOUT_MS);

test('after a real `scan --remediate`, the fixes read as words, a few rows with a link to the whole change log', async () => {
  const clients = createAwsClients();
  const finance = await createKey(clients, { rotation: true, alias: 'alias/finance' });
  await createBucket(clients, 'ledger-bucket');
  for (let i = 0; i < 7; i++) await putObject(clients, 'ledger-bucket', `ledger/${i}.csv`, { mode: 'sse-s3' });
  const dir = mkdtempSync(join(tmpdir(), 'sseguard-e2e-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'version: 1\ndefault:\n  require: sse-kms\n  kmsKeys: [alias/finance]\n  remediate: true\n  target: { mode: sse-kms, kmsKey: alias/finance, bucketKey: true }\n');
  const scan = await runCli(['scan', '--bucket', 'ledger-bucket', '--policy', policy, '--remediate'], { SSEGUARD_TABLE: TABLE });
  expect(scan.stdout + scan.stderr).toMatch(/fixed\s+7/);
  const summary = await api('/summary');
  const log = await api('/remediations?limit=25');
  expect(log.remediations).toHaveLength(7);
  expect(summary.recentRemediations).toHaveLength(5);
  for (const r of log.remediations) expect(r.description).toMatch(/^sse-s3 → sse-kms \(alias\/finance\), bucket key on, ETag (kept|changed)/);

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${server.url}/#token=${TOKEN}`);
  await page.waitForSelector('body[data-ready=true]');
  expect(await page.getByTestId('remediation-row').count()).toBe(5);
  const changes = await page.getByTestId('remediation-change').allTextContents();
  expect(changes).toEqual(summary.recentRemediations.map((r: any) => r.description));
  expect(await page.locator('#remediations').textContent()).not.toMatch(/[{}"]/);
  await screenshot(page, 'after-remediation');

  await page.getByTestId('remediation-log-link').click();
  await page.getByTestId('remediation-log-row').first().waitFor();
  expect(await page.getByTestId('remediation-log-row').count()).toBe(7);
  expect(await page.getByTestId('log-older').isDisabled()).toBe(true);
  await page.close();
}, BROWSER_TEST_TIMEOUT_MS);

test('accounts: the worst first (a coverage gap, then most objects not proven compliant), with at-risk keys and coverage; an account link lists its findings', async () => {
  const accountsTable = 'report-dashboard-accounts';
  const clients = createAwsClients();
  await ensureFindingsTable(clients.dynamodb, accountsTable);
  const store = new DynamoFindingsStore(clients.documents, accountsTable);
  const of = (account: string, region: string, f: Finding): Finding => ({ ...f, account, region });
  const owner = '123456789012'; // KEY_DISABLED's account
  await seedReport(store, [
    of(owner, 'us-east-1', finding('acct-owner', 'a.dat', 'at-risk', 'sse-kms', 1000, KEY_DISABLED)),
    of(owner, 'us-east-1', finding('acct-owner', 'b.dat', 'at-risk', 'sse-kms', 1000, KEY_DISABLED)),
    of(owner, 'us-east-1', finding('acct-owner', 'c.dat', 'compliant', 'sse-s3', 10)),
    of('111111111111', 'eu-west-1', finding('acct-one', 'x.dat', 'noncompliant', 'none', 10)),
    ...['p', 'q', 'r'].map((key) => of('111111111111', 'eu-west-1', finding('acct-one', `${key}.dat`, 'compliant', 'sse-s3', 10))),
    ...['s', 't'].map((key) => of('222222222222', 'us-east-1', finding('acct-two', `${key}.dat`, 'compliant', 'sse-s3', 10))),
  ]);
  await store.recordAccountsRun({
    id: 'accounts-run-1',
    startedAt: '2026-11-20T11:00:00.000Z',
    finishedAt: '2026-11-20T11:02:00.000Z',
    accounts: [
      { account: owner, status: 'covered', regions: ['us-east-1'], buckets: 1, objects: 3, notAudited: 0 },
      { account: '111111111111', status: 'covered', regions: ['eu-west-1'], buckets: 1, objects: 4, notAudited: 0 },
      { account: '222222222222', status: 'covered', regions: ['us-east-1'], buckets: 1, objects: 2, notAudited: 0 },
      { account: '333333333333', status: 'gap', regions: [], buckets: 0, objects: 0, notAudited: 0 },
    ],
    gaps: [{ account: '333333333333', reason: 'cannot assume arn:aws:iam::333333333333:role/sseguard-audit: AccessDenied' }],
  });
  const runtime = createRuntime(loadConfig());
  const accountsServer = await startReportServer(
    createReportApi({ ...runtime, config: { ...runtime.config, table: accountsTable } }, loadReportApiConfig({ SSEGUARD_API_TOKEN: TOKEN })),
    { port: 0, host: '127.0.0.1' },
    () => {},
  );
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    const answer = await fetch(`${accountsServer.url}/accounts`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const { accounts } = (await answer.json()) as { accounts: { account: string; unproven: number; atRiskKeys: { arn: string }[]; coverage: { status: string } }[] };
    expect(accounts.map((a) => [a.account, a.unproven, a.coverage.status])).toEqual([
      ['333333333333', 0, 'gap'],
      [owner, 2, 'covered'],
      ['111111111111', 1, 'covered'],
      ['222222222222', 0, 'covered'],
    ]);
    expect(accounts[1]!.atRiskKeys.map((k) => k.arn)).toEqual([KEY_DISABLED]);

    await page.goto(`${accountsServer.url}/#token=${TOKEN}`);
    await page.waitForSelector('body[data-ready=true]');
    const rows = await page.getByTestId('account-row').evaluateAll((all) =>
      all.map((row) => [row.getAttribute('data-account'), row.querySelector('[data-testid=account-unproven]')!.textContent, row.getAttribute('data-coverage')]),
    );
    expect(rows).toEqual(accounts.map((a) => [a.account, count(a.unproven), a.coverage.status]));
    expect(await page.locator('[data-account="333333333333"] [data-testid=account-coverage]').textContent()).toContain('NOT covered');
    expect(await page.locator(`[data-account="${owner}"] [data-testid=account-keys]`).textContent()).toContain('(2)');
    await page.locator('[data-account="111111111111"] [data-testid=account-findings-link]').click();
    await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid=finding-row]')).every((row) => row.getAttribute('data-bucket') === 'acct-one'));
    expect((await rowsShown(page)).sort()).toEqual(['acct-one/p.dat', 'acct-one/q.dat', 'acct-one/r.dat', 'acct-one/x.dat']);
    expect(await page.getByTestId('filter-account').inputValue()).toBe('111111111111');
    // The accounts card and the findings it filtered, measured with the page scrolled to the top.
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.locator('header').scrollIntoViewIfNeeded();
    const top = (await page.locator('section[aria-labelledby=h-accounts]').boundingBox())!;
    const bottom = (await page.locator('section[aria-labelledby=h-findings]').boundingBox())!;
    await page.screenshot({ path: join(SCREENSHOTS, 'accounts.png'), fullPage: true, clip: { x: 0, y: top.y - 16, width: 1280, height: Math.ceil(bottom.y + bottom.height - top.y + 32) } });
  } finally {
    await page.close();
    await accountsServer.close();
  }
}, BROWSER_TEST_TIMEOUT_MS);
