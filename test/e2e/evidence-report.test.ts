// The evidence pack's HTML report in a real headless Chromium (Debian's, driven by playwright-core):
// it is self-contained (no request leaves the file), shows its gaps first, and prints to a PDF of
// several A4 pages whose tables repeat their headers. A screenshot is kept under docs/screenshots/.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { evidenceCommand } from '../../cli/commands/evidence.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { launchChromium } from '../support/browser.ts';
import { seedReport } from '../support/report-fixtures.ts';

const TABLE = 'evidence-report';
const SCREENSHOT = 'docs/screenshots/evidence-report.png';
const BROWSER_SETUP_TIMEOUT_MS = 120_000;
let browser: Browser;
let dir: string;

const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() });

beforeAll(async () => {
  process.env.SSEGUARD_TABLE = TABLE;
  const clients = createAwsClients();
  await ensureFindingsTable(clients.dynamodb, TABLE);
  await seedReport(new DynamoFindingsStore(clients.documents, TABLE));
  const { KeyMetadata } = await clients.kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
  dir = join(mkdtempSync(join(tmpdir(), 'sseguard-evidence-html-')), 'pack');
  await evidenceCommand(loadConfig(), { out: dir, window: 90, org: false, json: false, signingKey: KeyMetadata!.KeyId! }, sink());
  browser = await launchChromium();
}, BROWSER_SETUP_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
}, BROWSER_SETUP_TIMEOUT_MS);

test('the report reads the pack, needs nothing outside its file, and prints to a paginated PDF', { timeout: 90_000 }, async () => {
  const evidence = JSON.parse(readFileSync(join(dir, 'evidence.json'), 'utf8')) as { population: { objects: number }; gaps: string[]; exceptions: { objects: unknown[] } };
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(`file://${join(dir, 'report.html')}`);
  expect(requests.filter((url) => !url.startsWith('file://'))).toEqual([]);

  expect(await page.getByTestId('kpi-objects').locator('b').textContent()).toBe(evidence.population.objects.toLocaleString('en-US'));
  expect(await page.getByTestId('kpi-exceptions').locator('b').textContent()).toBe(evidence.exceptions.objects.length.toLocaleString('en-US'));
  // Gaps come before anything else in the body's sections, and list every gap of the pack.
  const gaps = await page.getByTestId('gaps').locator('li').allTextContents();
  expect(gaps).toEqual(evidence.gaps);
  const firstSectionTop = await page.locator('section').first().evaluate((node) => (node as unknown as { offsetTop: number }).offsetTop);
  const gapsTop = await page.getByTestId('gaps').evaluate((node) => (node as unknown as { offsetTop: number }).offsetTop);
  expect(gapsTop).toBeLessThan(firstSectionTop);
  expect(await page.getByTestId('controls').locator('tbody tr').count()).toBeGreaterThanOrEqual(11);
  await page.screenshot({ path: SCREENSHOT, fullPage: false });

  await page.emulateMedia({ media: 'print' });
  const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
  const pages = pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? [];
  // Each section after the first starts a page: population, coverage, exceptions, keys, changes, controls, integrity.
  expect(pages.length).toBeGreaterThanOrEqual(7);
  // Table headers repeat on every printed page a table spans.
  expect(await page.locator('thead').first().evaluate((node) => getComputedStyle(node as never).display)).toBe('table-header-group');
});

declare function getComputedStyle(node: never): { display: string };
