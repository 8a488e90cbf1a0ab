// The report API driven through its real Lambda handler (API Gateway HTTP API v2 events) and through
// `sseguard serve`'s HTTP adapter, against findings recorded by the real store on the emulator.
import { mkdtempSync, rmSync } from 'node:fs';
import { OCSF_VERSION } from '../../shared/report/ocsf.ts';
import { ocsfValidator } from '../support/ocsf-schema.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startReportServer, type RunningReportServer } from '../../cli/commands/serve.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { ENCRYPTION_MODES } from '../../shared/domain/encryption.ts';
import type { Finding } from '../../shared/domain/finding.ts';
import { VERDICTS } from '../../shared/domain/verdict.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { loadReportApiConfig } from '../../shared/report/api-config.ts';
import { bodyText, createReportApi } from '../../shared/report-api/create-report-api.ts';
import { createRuntime, scanDependencies } from '../../shared/runtime.ts';
import { scanBucket } from '../../shared/audit/scan.ts';
import { createBucket, putObject } from '../support/aws-fixtures.ts';
import { KEY_DISABLED, KEY_OK, ODD_KEYS, apiOrder, compliancePercent, seedReport } from '../support/report-fixtures.ts';

const TABLE = 'report-api';
const TOKEN = 'test-token-0123456789abcdef0123456789abcdef';
const clients = createAwsClients();
let seeded: Finding[];
let handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let server: RunningReportServer;

const lambdaContext = {
  functionName: 'sseguard-report-api',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:sseguard-report-api',
  memoryLimitInMB: '512',
  awsRequestId: 'test-request',
  logGroupName: '/aws/lambda/sseguard-report-api',
  logStreamName: 'test',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 30_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
} as Context;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  json: () => any;
}

const auth = { authorization: `Bearer ${TOKEN}` };

async function invoke(path: string, query = '', headers: Record<string, string> = auth, method = 'GET'): Promise<Answer> {
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    headers,
    isBase64Encoded: false,
    requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' }, requestId: 'test', stage: '$default' },
  } as unknown as APIGatewayProxyEventV2;
  const result = await handler(event, lambdaContext);
  const body = result.body ?? '';
  return { status: result.statusCode ?? 0, headers: result.headers as Record<string, string>, body, json: () => JSON.parse(body) };
}

const get = (path: string, query = '') => invoke(path, query).then((answer) => answer.json());

async function allPages(query: Record<string, string>, limit: number): Promise<{ findings: any[]; pages: number }> {
  const findings: any[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const params = new URLSearchParams({ ...query, limit: String(limit), ...(cursor ? { cursor } : {}) });
    const answer = await invoke('/findings', params.toString());
    expect(answer.status, answer.body).toBe(200);
    const page = answer.json();
    expect(page.findings.length).toBeLessThanOrEqual(limit);
    findings.push(...page.findings);
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  return { findings, pages };
}

const expected = (keep: (f: Finding) => boolean) => seeded.filter(keep).sort(apiOrder).map((f) => `${f.bucket}/${f.key}`);
const ids = (findings: { bucket: string; key: string }[]) => findings.map((f) => `${f.bucket}/${f.key}`);

beforeAll(async () => {
  process.env.SSEGUARD_TABLE = TABLE;
  process.env.SSEGUARD_API_TOKEN = TOKEN;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  delete process.env.SSEGUARD_CURSOR_SECRET;
  delete process.env.SSEGUARD_ACCOUNT_ID;
  await ensureFindingsTable(clients.dynamodb, TABLE);
  seeded = await seedReport(new DynamoFindingsStore(clients.documents, TABLE));
  resetHandlerRuntime();
  const module = await import('../../functions/report-api.ts');
  module.resetReportApi();
  handler = module.handler as unknown as typeof handler;
  const api = createReportApi(createRuntime(loadConfig()), loadReportApiConfig());
  server = await startReportServer(api, { port: 0, host: '127.0.0.1' }, () => {});
  // Seeds the table and starts a real HTTP server.
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('authentication', () => {
  test('every route but /health and the dashboard page answers 401 without the right bearer token', async () => {
    for (const path of ['/summary', '/findings', '/keys', '/openapi.json', '/export.csv', '/export.json', '/export.asff', '/objects/alpha-bucket/logs/000.dat']) {
      for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-token' }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }]) {
        const answer = await invoke(path, '', headers);
        expect(answer.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(answer.headers['www-authenticate']).toBe('Bearer realm="sseguard"');
        expect(answer.json().error.code).toBe('unauthorized');
      }
    }
    expect((await invoke('/health', '', {})).json()).toEqual({ status: 'ok' });
    const page = await invoke('/', '', {});
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).not.toContain(TOKEN);
  });

  test('the serve adapter checks the token too, over real HTTP', async () => {
    expect((await fetch(`${server.url}/summary`)).status).toBe(401);
    expect((await fetch(`${server.url}/summary`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(`${server.url}/summary`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  test('sseguard serve refuses to start without SSEGUARD_API_TOKEN unless --no-auth is given', async () => {
    const { serveCommand } = await import('../../cli/commands/serve.ts');
    const saved = process.env.SSEGUARD_API_TOKEN;
    delete process.env.SSEGUARD_API_TOKEN;
    const errors: string[] = [];
    const original = console.error;
    console.error = (...parts: unknown[]) => void errors.push(parts.join(' '));
    try {
      expect(await serveCommand(loadConfig(), { port: 0, host: '127.0.0.1', auth: true })).toBe(2);
    } finally {
      console.error = original;
      process.env.SSEGUARD_API_TOKEN = saved;
    }
    expect(errors.join('\n')).toMatch(/SSEGUARD_API_TOKEN is not set[\s\S]*--no-auth/);
  });

  test('refuses to start without a token unless told explicitly', () => {
    expect(() => loadReportApiConfig({})).toThrow(/SSEGUARD_API_TOKEN is not set/);
    expect(() => loadReportApiConfig({ SSEGUARD_API_TOKEN: 'short' })).toThrow(/too short/);
    expect(loadReportApiConfig({}, { allowNoAuth: true }).token).toBeUndefined();
  });
});

describe('summary and keys', () => {
  test('/summary totals, per-bucket, per-mode and per-verdict counts equal the recorded findings', async () => {
    const summary = await get('/summary');
    expect(summary.overall.objects).toBe(seeded.length);
    expect(summary.overall.bytes).toBe(seeded.reduce((sum, f) => sum + f.size, 0));
    expect(summary.overall.compliancePercent).toBe(compliancePercent(seeded));
    for (const verdict of VERDICTS) expect(summary.overall.verdicts[verdict]).toBe(seeded.filter((f) => f.verdict === verdict).length);
    for (const mode of ENCRYPTION_MODES) expect(summary.overall.modes[mode]).toBe(seeded.filter((f) => f.mode === mode).length);
    expect(summary.overall.modes.unknown).toBe(seeded.filter((f) => !f.mode).length);
    const buckets = [...new Set(seeded.map((f) => f.bucket))].sort();
    expect(summary.buckets.map((b: { bucket: string }) => b.bucket)).toEqual(buckets);
    for (const row of summary.buckets) {
      const inBucket = seeded.filter((f) => f.bucket === row.bucket);
      expect(row.objects).toBe(inBucket.length);
      expect(row.compliancePercent).toBe(compliancePercent(inBucket));
    }
  });

  test('/summary names the at-risk key with its blast radius, the last sweep, coverage and the trend', async () => {
    const summary = await get('/summary');
    const underDisabled = seeded.filter((f) => f.kmsKeyArn === KEY_DISABLED);
    expect(summary.atRiskKeys).toHaveLength(1);
    expect(summary.atRiskKeys[0]).toMatchObject({ arn: KEY_DISABLED, state: 'Disabled', atRisk: true, objects: underDisabled.length, bytes: underDisabled.reduce((s, f) => s + f.size, 0) });
    expect(summary.lastSweep).toMatchObject({ id: 'run-3', bucket: 'alpha-bucket' });
    expect(summary.trend.map((run: { id: string }) => run.id)).toEqual(['run-1', 'run-2', 'run-3']);
    expect(summary.trend[2].compliancePercent).toBeCloseTo((100 * 30) / 45, 2);
    expect(summary.coverage).toMatchObject({ buckets: 4, bucketsSwept: 2, oldestSweepAt: null });
    const alpha = summary.buckets.find((b: { bucket: string }) => b.bucket === 'alpha-bucket');
    expect(alpha.lastSweepAt).toBe('2026-11-20T10:05:00.000Z');
    // No remediation log yet: the dashboard shows its empty state.
    expect(summary.recentRemediations).toEqual([]);
  });

  test('/keys lists every key seen, at-risk first, with state, rotation and blast radius', async () => {
    const { keys } = await get('/keys');
    expect(keys.map((k: { arn: string }) => k.arn)).toEqual([KEY_DISABLED, KEY_OK]);
    for (const key of keys) {
      const under = seeded.filter((f) => f.kmsKeyArn === key.arn);
      expect(key.objects).toBe(under.length);
      expect(key.bytes).toBe(under.reduce((s, f) => s + f.size, 0));
    }
    expect(keys[1]).toMatchObject({ state: 'Enabled', rotationEnabled: true, atRisk: false, manager: 'CUSTOMER' });
  });
});

describe('findings', () => {
  test('each filter, alone and combined, returns exactly the matching findings in bucket-then-key order', async () => {
    const cases: [Record<string, string>, (f: Finding) => boolean][] = [
      [{}, () => true],
      [{ bucket: 'beta-bucket' }, (f) => f.bucket === 'beta-bucket'],
      [{ bucket: 'beta-bucket', prefix: 'finance/' }, (f) => f.bucket === 'beta-bucket' && f.key.startsWith('finance/')],
      [{ prefix: 'img/' }, (f) => f.key.startsWith('img/')],
      [{ verdict: 'at-risk' }, (f) => f.verdict === 'at-risk'],
      [{ verdict: 'noncompliant', bucket: 'gamma-bucket' }, (f) => f.verdict === 'noncompliant' && f.bucket === 'gamma-bucket'],
      [{ mode: 'sse-c' }, (f) => f.mode === 'sse-c'],
      [{ mode: 'unknown' }, (f) => f.mode === undefined],
      [{ mode: 'sse-c', verdict: 'exempt' }, (f) => f.mode === 'sse-c' && f.verdict === 'exempt'],
      [{ kmsKey: KEY_DISABLED }, (f) => f.kmsKeyArn === KEY_DISABLED],
      [{ kmsKey: KEY_OK, verdict: 'compliant', prefix: 'finance/' }, (f) => f.kmsKeyArn === KEY_OK && f.verdict === 'compliant' && f.key.startsWith('finance/')],
      [{ kmsKey: KEY_OK, verdict: 'at-risk' }, () => false],
      [{ bucket: 'no-such-bucket' }, () => false],
    ];
    for (const [query, keep] of cases) {
      const { findings } = await allPages(query, 1000);
      expect(ids(findings), JSON.stringify(query)).toEqual(expected(keep));
    }
  });

  test('pages of any size join into the whole listing, without loss or duplicates', async () => {
    const whole = expected(() => true);
    for (const limit of [1, 7, 50, 151]) {
      const { findings, pages } = await allPages({}, limit);
      expect(ids(findings)).toEqual(whole);
      expect(pages).toBe(Math.ceil(whole.length / limit));
    }
    // Through a filter evaluated after the key condition (mode), across bucket boundaries.
    const { findings } = await allPages({ mode: 'sse-kms' }, 4);
    expect(ids(findings)).toEqual(expected((f) => f.mode === 'sse-kms'));
    // Hundreds of requests (pages of one): took over 30 s in a full run on a shared machine.
  }, 120_000);

  test('a cursor works only for the query that issued it; an altered cursor is refused', async () => {
    const first = await get('/findings', 'verdict=compliant&limit=5');
    const cursor = first.nextCursor as string;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const ok = await invoke('/findings', `verdict=compliant&limit=5&cursor=${cursor}`);
    expect(ok.status).toBe(200);
    for (const replay of [`verdict=at-risk&limit=5`, `verdict=compliant&limit=6`, `verdict=compliant&limit=5&bucket=alpha-bucket`, 'limit=5']) {
      const answer = await invoke('/findings', `${replay}&cursor=${cursor}`);
      expect(answer.status, replay).toBe(400);
      expect(answer.json().error.issues[0]).toMatchObject({ parameter: 'cursor', message: expect.stringMatching(/another query/) });
    }
    // Forge a position (skip ahead into another bucket) keeping the signature: refused.
    const [payload, mac] = cursor.split('.');
    const position = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...position, b: 'gamma-bucket' })).toString('base64url');
    const answer = await invoke('/findings', `verdict=compliant&limit=5&cursor=${forged}.${mac}`);
    expect(answer.status).toBe(400);
    expect(answer.json().error.message).toMatch(/cursor: cursor is not valid/);
  });

  test('bad parameters answer 400 naming the parameter and the problem, with no internals', async () => {
    const cases: [string, string, RegExp][] = [
      ['/findings', 'limit=0', /^limit: expected a whole number from 1 to 1000$/],
      ['/findings', 'limit=1001', /^limit: expected a whole number from 1 to 1000$/],
      ['/findings', 'limit=ten', /^limit: expected a whole number from 1 to 1000$/],
      ['/findings', 'limit=2.5', /^limit: expected a whole number from 1 to 1000$/],
      ['/findings', 'verdict=bad', /^verdict: expected one of compliant, noncompliant, at-risk, exempt, unauditable$/],
      ['/findings', 'mode=aes', new RegExp(`^mode: expected one of ${[...ENCRYPTION_MODES, 'unknown'].join(', ')}$`)],
      ['/findings', 'kmsKey=alias/finance', /^kmsKey: expected a KMS key ARN \(arn:aws:kms:REGION:ACCOUNT:key\/ID\); the API cannot resolve an alias or key id: `sseguard report --kms-key` does$/],
      ['/findings', 'kmsKey=1234abcd-12ab-34cd-56ef-1234567890ab', /^kmsKey: expected a KMS key ARN .*alias or key id/],
      ['/findings', 'bucket=Not_A_Bucket', /^bucket: expected an S3 bucket name/],
      ['/findings', 'prefix=', /^prefix: expected a non-empty key prefix$/],
      ['/findings', 'cursor=garbage', /^cursor: expected the nextCursor of a previous page/],
      ['/findings', 'sort=key', /^sort: unknown parameter \(allowed: bucket, prefix, verdict, mode, kmsKey, account, region, limit, cursor\)$/],
      ['/findings', 'verdict=compliant&verdict=exempt', /^verdict: given more than once$/],
      ['/summary', 'bucket=alpha-bucket', /^bucket: unknown parameter \(this route takes none\)$/],
      ['/export.csv', 'limit=5', /^limit: unknown parameter/],
    ];
    for (const [path, query, message] of cases) {
      const answer = await invoke(path, query);
      expect(answer.status, `${path}?${query}`).toBe(400);
      const { error } = answer.json();
      expect(error.message, `${path}?${query}`).toMatch(message);
      expect(answer.body).not.toMatch(/\n\s+at |report-api|dynamodb|ZodError/i);
    }
    const several = (await invoke('/findings', 'limit=0&verdict=x')).json().error.issues.map((i: { parameter: string }) => i.parameter);
    expect(several.sort()).toEqual(['limit', 'verdict']);
  });

  test('limit takes decimal digits only: hex, exponents, signs, blanks and spaces are 400, not a page', async () => {
    for (const limit of ['0x10', '1e3', '1e2', '+5', '-5', ' 5', '5 ', '', '0b11', '5.0', '007', '٥']) {
      const answer = await invoke('/findings', `limit=${encodeURIComponent(limit)}`);
      expect(answer.status, `limit=${JSON.stringify(limit)}`).toBe(400);
      expect(answer.json().error.message).toBe('limit: expected a whole number from 1 to 1000');
    }
    expect((await get('/findings', 'limit=7')).findings).toHaveLength(7);
    expect((await invoke('/findings', 'limit=1000')).status).toBe(200);
  });

  test('unknown routes answer 404 and other methods 405, in the same error shape', async () => {
    const missing = await invoke('/nope');
    expect(missing.status).toBe(404);
    expect(missing.json().error.code).toBe('not-found');
    const post = await invoke('/findings', '', auth, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, OPTIONS');
  });
});

describe('one object', () => {
  test('keys with any characters round-trip through the handler and over HTTP', async () => {
    for (const key of ODD_KEYS) {
      const path = `/objects/odd-keys/${encodeURIComponent(key)}`;
      const answer = await invoke(path);
      expect(answer.status, key).toBe(200);
      const object = answer.json();
      expect(object.state.key).toBe(key);
      expect(object.history).toHaveLength(1);
      expect(object.history[0]).toMatchObject({ verdict: object.state.verdict, rev: 1 });
      const overHttp = await fetch(`${server.url}${path}`, { headers: auth });
      expect(overHttp.status, key).toBe(200);
      expect(((await overHttp.json()) as { state: { key: string } }).state.key).toBe(key);
    }
    // Slashes may stay unencoded: the key is everything after the bucket.
    expect((await get('/objects/alpha-bucket/logs/000.dat')).state).toMatchObject({ bucket: 'alpha-bucket', key: 'logs/000.dat' });
  });

  test('the history lists every change, oldest first; an unknown object is 404; a bad escape is 400', async () => {
    const store = new DynamoFindingsStore(clients.documents, TABLE);
    const base = seeded.find((f) => f.bucket === 'alpha-bucket' && f.key === 'img/002.dat')!;
    await store.record([{ ...base, verdict: 'noncompliant', auditedAt: '2026-11-21T10:00:00.000Z', reasons: [{ code: 'mode-not-allowed', message: 'x' }] }]);
    await store.record([{ ...base, auditedAt: '2026-11-22T10:00:00.000Z' }]);
    const object = await get('/objects/alpha-bucket/img%2F002.dat');
    expect(object.history.map((h: { verdict: string; rev: number }) => [h.rev, h.verdict])).toEqual([[1, base.verdict], [2, 'noncompliant'], [3, base.verdict]]);
    expect(object.history[2].previousVerdict).toBe('noncompliant');
    expect((await invoke('/objects/alpha-bucket/no-such-key')).status).toBe(404);
    expect((await invoke('/objects/alpha-bucket/%E0%A4%A')).status).toBe(400);
  });

  test("a key longer than S3's 1,024 bytes is 400 before it reaches the table, however it is spelled", async () => {
    const longest = 'k'.repeat(1024);
    expect((await invoke(`/objects/alpha-bucket/${longest}`)).status).toBe(404);
    // 1,025 bytes; 2,049 bytes (past DynamoDB's own limit); 342 three-byte characters (1,026 bytes).
    for (const key of [`${longest}k`, 'k'.repeat(2049), '€'.repeat(342)]) {
      const answer = await invoke(`/objects/alpha-bucket/${encodeURIComponent(key)}`);
      expect(answer.status, `${Buffer.byteLength(key)} bytes`).toBe(400);
      expect(answer.json().error).toMatchObject({ code: 'bad-path', message: 'the object key is longer than S3 allows (1024 bytes in UTF-8)' });
    }
  });
});

describe('exports', () => {
  const parseCsv = (text: string): string[][] => {
    const rows: string[][] = [];
    let row: string[] = [];
    let field = '';
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
        else if (c === '"') quoted = false;
        else field += c;
      } else if (c === '"') quoted = true;
      else if (c === ',') row.push(field), (field = '');
      else if (c === '\r' && text[i + 1] === '\n') rows.push([...row, field]), (row = []), (field = ''), i++;
      else field += c;
    }
    return rows;
  };

  test('CSV streams every finding over HTTP, keys intact, in API order', async () => {
    const response = await fetch(`${server.url}/export.csv`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('link')).toBeNull();
    const [header, ...rows] = parseCsv(await response.text());
    expect(header).toEqual(['bucket', 'key', 'versionId', 'mode', 'kmsKeyArn', 'verdict', 'reasons', 'size', 'storageClass', 'etag', 'auditedAt', 'policyVersion', 'policyHash', 'account', 'region']);
    expect(rows.map((r) => `${r[0]}/${r[1]}`)).toEqual(ids((await allPages({}, 1000)).findings));
  });

  test('JSON and ASFF exports honour the filters', async () => {
    const json = await invoke('/export.json', 'verdict=at-risk');
    expect(json.headers['content-type']).toBe('application/json');
    const body = json.json();
    expect(ids(body.findings)).toEqual(expected((f) => f.verdict === 'at-risk'));
    expect(body.nextCursor).toBeNull();

    // OCSF: JSON lines, one Compliance Finding per matching finding, valid against the pinned schema.
    const ocsfResponse = await invoke('/export.ocsf', 'verdict=at-risk');
    expect(ocsfResponse.headers['content-type']).toBe('application/x-ndjson');
    const ocsfEvents = ocsfResponse.body.trim().split('\n').map((line: string) => JSON.parse(line) as { finding_info: { uid: string } });
    expect(ocsfEvents).toHaveLength(expected((f) => f.verdict === 'at-risk').length);
    const ocsfSchema = ocsfValidator(OCSF_VERSION);
    for (const event of ocsfEvents) expect(ocsfSchema.validate('compliance_finding', event)).toEqual([]);

    const asff = (await invoke('/export.asff', 'bucket=odd-keys&verdict=at-risk')).json();
    const atRisk = expected((f) => f.bucket === 'odd-keys' && f.verdict === 'at-risk');
    expect(asff.Findings).toHaveLength(atRisk.length);
    expect(asff.Findings[0]).toMatchObject({
      SchemaVersion: '2018-10-08',
      AwsAccountId: '123456789012',
      ProductArn: 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default',
      Severity: { Label: 'CRITICAL' },
      Compliance: { Status: 'FAILED' },
      Resources: [{ Type: 'AwsS3Object', Details: { AwsS3Object: { ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: KEY_DISABLED } } }],
    });
  });

  test('a buffered transport gets pages linked by rel="next" that join into the whole export', async () => {
    const api = createReportApi(createRuntime(loadConfig()), loadReportApiConfig());
    let path = '/export.csv';
    let query = 'verdict=compliant';
    const rows: string[][] = [];
    let pages = 0;
    for (;;) {
      const response = await api.handle({ method: 'GET', rawPath: path, rawQuery: query, headers: auth }, { maxBodyBytes: 2000 });
      expect(response.status).toBe(200);
      const [header, ...pageRows] = parseCsv(await bodyText(response.body));
      expect(header![0]).toBe('bucket');
      rows.push(...pageRows);
      pages++;
      const link = response.trailingHeaders?.().link;
      if (!link) break;
      [path, query] = /^<([^?]+)\?([^>]+)>; rel="next"$/.exec(link)!.slice(1) as [string, string];
    }
    expect(pages).toBeGreaterThan(3);
    expect(rows.map((r) => `${r[0]}/${r[1]}`)).toEqual(expected((f) => f.verdict === 'compliant'));
  });

  test('ASFF needs an account id: a clear 503 when neither configuration nor Lambda gives one', async () => {
    const api = createReportApi(createRuntime(loadConfig()), loadReportApiConfig());
    const response = await api.handle({ method: 'GET', rawPath: '/export.asff', rawQuery: '', headers: auth });
    expect(response.status).toBe(503);
    expect(JSON.parse(response.body as string).error.message).toMatch(/SSEGUARD_ACCOUNT_ID/);
  });
});

describe('description and CORS', () => {
  test('/openapi.json describes every route with the parameters the validators accept', async () => {
    const document = await get('/openapi.json');
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual(
      ['/', '/accounts', '/buckets', '/deliveries', '/events', '/evidence', '/export.asff', '/export.csv', '/export.json', '/export.ocsf', '/export.ocsf-parquet', '/findings', '/health', '/keys', '/objects/{bucket}/{key}', '/openapi.json', '/remediations', '/summary'].sort(),
    );
    const parameters = document.paths['/findings'].get.parameters;
    const byName = Object.fromEntries(parameters.map((p: { name: string }) => [p.name, p]));
    expect(Object.keys(byName)).toEqual(['bucket', 'prefix', 'verdict', 'mode', 'kmsKey', 'account', 'region', 'limit', 'cursor']);
    expect(byName.limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000, default: 100 });
    expect(byName.verdict.schema.enum).toEqual([...VERDICTS]);
    expect(document.paths['/health'].get.security).toEqual([]);
  });

  test('CORS headers only for configured origins; preflight needs no token', async () => {
    const api = createReportApi(createRuntime(loadConfig()), loadReportApiConfig({ ...process.env, SSEGUARD_CORS_ORIGINS: 'https://dash.example.com' }));
    const allowed = await api.handle({ method: 'GET', rawPath: '/summary', rawQuery: '', headers: { ...auth, origin: 'https://dash.example.com' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://dash.example.com');
    const other = await api.handle({ method: 'GET', rawPath: '/summary', rawQuery: '', headers: { ...auth, origin: 'https://evil.example.com' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await api.handle({ method: 'OPTIONS', rawPath: '/findings', rawQuery: '', headers: { origin: 'https://dash.example.com' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toBe('authorization');
    // Without configuration, no CORS headers at all (the dashboard is same-origin).
    expect((await invoke('/summary', '', { ...auth, origin: 'https://dash.example.com' })).headers['access-control-allow-origin']).toBeUndefined();
    expect(() => loadReportApiConfig({ SSEGUARD_API_TOKEN: TOKEN, SSEGUARD_CORS_ORIGINS: 'https://x.example.com/path' })).toThrow(/SSEGUARD_CORS_ORIGINS/);
  });
});

// Runs last: it adds a fix, a scheduled sweep and bucket postures to the table the tests above read.
describe('remediations, scheduled sweeps and bucket posture in the report', () => {
  test('a fix recorded by the store appears among recent remediations and in the object history', async () => {
    const store = new DynamoFindingsStore(clients.documents, TABLE);
    const fixed = seeded.find((f) => f.verdict === 'noncompliant' && f.mode === 'none')!;
    const remediation = {
      action: 'copy',
      outcome: 'fixed',
      at: '2026-11-23T09:00:00.000Z',
      before: { mode: 'none' as const, bucketKeyEnabled: false },
      after: { mode: 'sse-s3' as const, bucketKeyEnabled: false },
    };
    await store.record([{ ...fixed, verdict: 'compliant', mode: 'sse-s3', reasons: [], auditedAt: '2026-11-23T09:00:01.000Z', remediation }]);
    const summary = await get('/summary');
    expect(summary.recentRemediations).toEqual([expect.objectContaining({ bucket: fixed.bucket, key: fixed.key, action: 'copy', at: remediation.at })]);
    const object = await get(`/objects/${fixed.bucket}/${encodeURIComponent(fixed.key)}`);
    expect(object.history.at(-1).remediation).toMatchObject({ action: 'copy', outcome: 'fixed' });
  });

  test('a finished scheduled sweep counts as the last sweep of every bucket it covered', async () => {
    const { SweepRuns } = await import('../../shared/findings/sweep-runs.ts');
    const runs = new SweepRuns(clients.documents, TABLE);
    const buckets = (await get('/summary')).buckets.map((b: { bucket: string }) => b.bucket);
    const checkpoint = await runs.start({ runId: '2026-11-23T03:00:00.000Z~abc123', startedAt: '2026-11-23T03:00:00.000Z', buckets });
    await runs.finish(checkpoint, '2026-11-23T03:20:00.000Z');
    const summary = await get('/summary');
    // Until a worker has audited a page of it, the sweep says it audited nothing.
    expect(summary.lastSweep).toMatchObject({ id: checkpoint.runId, bucket: '(sweep)', finishedAt: '2026-11-23T03:20:00.000Z', empty: true });
    expect(summary.coverage).toMatchObject({ buckets: buckets.length, bucketsSwept: buckets.length, objectsPercent: 100, oldestSweepAt: '2026-11-23T03:20:00.000Z' });
    // It audited no object (no page was recorded): it covers its buckets, but is not plotted as compliance.
    expect(summary.trend.map((run: { id: string }) => run.id)).not.toContain(checkpoint.runId);
    // Once a page is audited it is a compliance figure like any run.
    await runs.countPage({ runId: checkpoint.runId, page: 0 }, seeded.slice(0, 5));
    const counted = await get('/summary');
    expect(counted.lastSweep.empty).toBeUndefined();
    expect(counted.trend.map((run: { id: string }) => run.id)).toContain(checkpoint.runId);
  });

  test('/buckets lists bucket postures, filters by verdict, and /summary counts them', async () => {
    const { PostureStore } = await import('../../shared/findings/posture-store.ts');
    const postures = new PostureStore(clients.documents, TABLE);
    const posture = (bucket: string, verdict: 'compliant' | 'noncompliant') => ({
      bucket,
      verdict,
      reasons: verdict === 'compliant' ? [] : [{ code: 'tls-not-required' as const, message: 'the bucket policy does not deny requests without TLS' }],
      remediate: false,
      auditedAt: '2026-11-23T03:00:00.000Z',
      defaultEncryption: { status: 'configured' as const, mode: 'sse-s3', bucketKeyEnabled: false },
      sseC: 'blocked' as const,
      policy: 'read' as const,
      tls: verdict === 'compliant' ? ('enforced' as const) : ('not-enforced' as const),
      unencryptedPuts: 'unknown' as const,
      notes: [],
    });
    await postures.record(posture('alpha-bucket', 'compliant'));
    await postures.record(posture('beta-bucket', 'noncompliant'));
    const all = await get('/buckets');
    expect(all.buckets.map((b: { bucket: string; verdict: string }) => [b.bucket, b.verdict])).toEqual([
      ['alpha-bucket', 'compliant'],
      ['beta-bucket', 'noncompliant'],
    ]);
    expect(all.buckets[1]).toMatchObject({ tls: 'not-enforced', reasons: [{ code: 'tls-not-required' }] });
    expect((await get('/buckets', 'verdict=noncompliant')).buckets.map((b: { bucket: string }) => b.bucket)).toEqual(['beta-bucket']);
    expect((await invoke('/buckets', 'verdict=maybe')).status).toBe(400);
    expect((await invoke('/buckets', '', {})).status).toBe(401);
    expect((await get('/summary')).posture).toEqual({ buckets: 2, verdicts: { compliant: 1, noncompliant: 1 } });
  });
});

describe('the policy that judged each finding', () => {
  test('findings, exports, object history and the OpenAPI schema name it; findings from before say null', async () => {
    const runtime = createRuntime(loadConfig());
    await createBucket(clients, 'policy-shown');
    await putObject(clients, 'policy-shown', 'judged.txt', { mode: 'sse-s3' });
    const deps = await scanDependencies(runtime);
    await scanBucket(deps, { bucket: 'policy-shown', concurrency: 1 });
    const { policyIdOf } = await import('../../shared/domain/policy-identity.ts');
    const policy = policyIdOf(deps.policy);

    const [finding] = (await get('/findings', 'bucket=policy-shown')).findings;
    expect(finding.policy).toEqual(policy);
    // Recorded before findings named their policy: null, not a guess.
    expect((await get('/findings', 'bucket=alpha-bucket&limit=1')).findings[0].policy).toBeNull();
    expect((await get('/export.json', 'bucket=policy-shown')).findings[0].policy).toEqual(policy);
    const csv = (await invoke('/export.csv', 'bucket=policy-shown')).body.trimEnd().split('\n');
    expect(csv[1]!.endsWith(`,${policy.version},${policy.hash},,`)).toBe(true);
    const object = await get('/objects/policy-shown/judged.txt');
    expect(object.state.policy).toEqual(policy);
    expect(object.history.at(-1).policy).toEqual(policy);
    const document = await get('/openapi.json');
    const findingsPage = document.paths['/findings'].get.responses[200].content['application/json'].schema;
    expect(JSON.stringify(findingsPage)).toContain('the policy that judged the finding');
  });
});

describe('runs that audited nothing', () => {
  test('a scan of an empty prefix is recorded as empty: last run says so, the trend and coverage leave it out', async () => {
    const alphaSweptAt = (await get('/summary')).buckets.find((b: { bucket: string }) => b.bucket === 'alpha-bucket').lastSweepAt;
    const runtime = createRuntime(loadConfig());
    await createBucket(clients, 'trend-typo');
    await putObject(clients, 'trend-typo', 'finance/a.txt', { mode: 'sse-s3' });
    const deps = await scanDependencies(runtime);
    // Newer than every other run, so that it is the last one shown.
    const result = await scanBucket({ ...deps, clock: () => new Date('2030-01-01T00:00:00.000Z') }, { bucket: 'trend-typo', prefix: 'finanse/', concurrency: 2 });
    expect(result).toMatchObject({ objects: 0, empty: true });
    // A run recorded before runs carried the flag: zero objects says the same.
    await runtime.store.recordScan({ id: 'old-empty', bucket: 'alpha-bucket', prefix: '', startedAt: '2029-12-31T00:00:00.000Z', finishedAt: '2029-12-31T00:01:00.000Z', objects: 0, verdicts: {} });
    const summary = await get('/summary');
    expect(summary.lastSweep).toMatchObject({ id: result.id, objects: 0, empty: true });
    const trendIds = summary.trend.map((run: { id: string }) => run.id);
    expect(trendIds).not.toContain(result.id);
    expect(trendIds).not.toContain('old-empty');
    expect(summary.trend.every((run: { objects: number }) => run.objects > 0)).toBe(true);
    // alpha-bucket's whole-bucket sweep is still the real one, not the empty run after it.
    expect(alphaSweptAt).toMatch(/^2026-/);
    expect(summary.buckets.find((b: { bucket: string }) => b.bucket === 'alpha-bucket').lastSweepAt).toBe(alphaSweptAt);
  });
});

describe('the report API as it ships (scripts/bundle.mjs)', () => {
  test('the bundled handler reads the table with the role credentials Lambda puts in the environment', async () => {
    // @ts-expect-error -- a plain .mjs script without type declarations
    const { bundleFunction } = await import('../../scripts/bundle.mjs');
    const outdir = mkdtempSync(join(tmpdir(), 'sseguard-report-bundle-'));
    try {
      const { file } = (await bundleFunction('report-api', outdir)) as { file: string };
      const bundled = (await import(pathToFileURL(file).href)) as { handler: typeof handler };
      const fromSource = handler;
      handler = bundled.handler;
      try {
        const summary = await invoke('/summary');
        expect(summary.status, summary.body).toBe(200);
        handler = fromSource;
        const expected = await get('/summary');
        expect({ ...summary.json(), generatedAt: null }).toEqual({ ...expected, generatedAt: null });
      } finally {
        handler = fromSource;
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});
