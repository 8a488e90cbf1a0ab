// `report --format ocsf-parquet`: the OCSF Compliance Findings of `--format ocsf` as Parquet for a
// Security Lake custom source. Read back with an independent reader (pyarrow, pinned in
// emulator/requirements.txt, in the project's .venv), each row validated against the published OCSF
// 1.3.0 schema (pydantic-ocsf's export, test/support/ocsf-schema.ts), the columns' types checked
// against the OCSF dictionary, and the rows compared with the JSON lines of `--format ocsf`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { beforeAll, describe, expect, test } from 'vitest';
import { startReportServer } from '../../cli/commands/serve.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { loadReportApiConfig } from '../../shared/report/api-config.ts';
import { createReportApi } from '../../shared/report-api/create-report-api.ts';
import { createRuntime } from '../../shared/runtime.ts';
import type { Finding } from '../../shared/domain/finding.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { OCSF_VERSION } from '../../shared/report/ocsf.ts';
import { runCli } from '../support/cli.ts';
import { ocsfValidator } from '../support/ocsf-schema.ts';
import { reportFindings, seedReport } from '../support/report-fixtures.ts';

const TABLE = 'ocsf-parquet';
const CLI_TIMEOUT_MS = 120_000;
const PYTHON = fileURLToPath(new URL('../../.venv/bin/python', import.meta.url));
const SCHEMA_FILE = fileURLToPath(new URL(`../../.venv/lib/python3.11/site-packages/ocsf/schemas/v${OCSF_VERSION.replaceAll('.', '_')}.json`, import.meta.url));
const workdir = mkdtempSync(join(tmpdir(), 'sseguard-ocsf-parquet-'));
const ocsf = ocsfValidator(OCSF_VERSION);
const clients = createAwsClients();
const sseguard = (args: string[], env: Record<string, string | undefined> = {}) => runCli(args, { SSEGUARD_TABLE: TABLE, SSEGUARD_ACCOUNT_ID: undefined, ...env });

type Described = string | Described[] | { [name: string]: Described };
interface ReadBack {
  path: string;
  schema: Record<string, Described>;
  rows: Record<string, unknown>[];
}

/** pyarrow's reading of Parquet files: each file's schema (struct → object, list → [element]) and rows. */
function readWithPyarrow(paths: string[]): ReadBack[] {
  const script = `
import json, sys
import pyarrow as pa, pyarrow.parquet as pq
def describe(t):
    if pa.types.is_struct(t): return {f.name: describe(f.type) for f in t}
    if pa.types.is_list(t): return [describe(t.value_type)]
    return str(t)
out = []
for path in sys.argv[1:]:
    table = pq.read_table(path)
    out.append({"path": path, "schema": {f.name: describe(f.type) for f in table.schema}, "rows": table.to_pylist()})
print(json.dumps(out))
`;
  return JSON.parse(execFileSync(PYTHON, ['-c', script, ...paths], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as ReadBack[];
}

/** A Parquet row as the OCSF event it stores: nulls are attributes the event left out, data is JSON text. */
function eventOfRow(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(eventOfRow);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, k === 'data' && typeof v === 'string' ? JSON.parse(v) : eventOfRow(v)]),
  );
}

const filesUnder = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.parquet')).map((name) => join(dir, name)).sort();
const byUid = (a: unknown, b: unknown) => ((a as { finding_info: { uid: string } }).finding_info.uid < (b as { finding_info: { uid: string } }).finding_info.uid ? -1 : 1);

let seeded: Finding[];
let jsonLines: unknown[];

beforeAll(async () => {
  await ensureFindingsTable(clients.dynamodb, TABLE);
  // The report's findings, some of them in a member account and Region and audited on another day.
  // Audit times fall as keys rise, so a partition's rows in report order are not in time order.
  const findings = reportFindings().map((f, i) => {
    const at = { ...f, auditedAt: new Date(Date.UTC(2026, 10, 20, 10) + (500 - i) * 1000).toISOString() };
    return i % 5 === 0 ? { ...at, account: '111111111111', region: 'eu-west-1' } : i % 7 === 0 ? { ...at, auditedAt: '2026-11-21T23:59:59.000Z' } : at;
  });
  seeded = await seedReport(new DynamoFindingsStore(clients.documents, TABLE), findings);
  const run = await sseguard(['report', '--format', 'ocsf'], { SSEGUARD_ACCOUNT_ID: '123456789012' });
  expect(run.code, run.stderr).toBe(0);
  jsonLines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown);
  expect(jsonLines).toHaveLength(seeded.length);
}, CLI_TIMEOUT_MS);

describe('report --format ocsf-parquet', { timeout: CLI_TIMEOUT_MS }, () => {
  test('--out FILE.parquet: pyarrow reads one row per finding, each a valid OCSF 1.3.0 Compliance Finding equal to the JSON lines export', async () => {
    const out = join(workdir, 'findings.parquet');
    // No SSEGUARD_ACCOUNT_ID: the account comes from STS (moto: 123456789012), as Security Lake needs one.
    const run = await sseguard(['report', '--format', 'ocsf-parquet', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${seeded.length} findings → ${out}\n`);
    const [file] = readWithPyarrow([out]);
    expect(file!.rows).toHaveLength(seeded.length);
    const events = file!.rows.map(eventOfRow);
    for (const event of events) expect(ocsf.validate('compliance_finding', event)).toEqual([]);
    expect([...events].sort(byUid)).toEqual([...jsonLines].sort(byUid));
    expect(events.filter((e) => (e as { cloud: { account: { uid: string } } }).cloud.account.uid === '111111111111')).toHaveLength(seeded.filter((f) => f.account === '111111111111').length);
  });

  test('the columns are OCSF attributes typed as the OCSF dictionary types them: objects as structs, arrays as lists, integer_t int32, long_t and timestamp_t int64', async () => {
    const out = join(workdir, 'types.parquet');
    expect((await sseguard(['report', '--format', 'ocsf-parquet', '--out', out, '--verdict', 'at-risk'])).code).toBe(0);
    const [file] = readWithPyarrow([out]);
    const dictionary = (JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as { dictionary: { attributes: Record<string, { type: string; is_array?: boolean }> } }).dictionary.attributes;
    const objects = new Set(Object.keys((JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as { objects: Record<string, unknown> }).objects));
    const problems: string[] = [];
    const check = (name: string, described: Described, path: string) => {
      const attribute = dictionary[name];
      if (!attribute) return problems.push(`${path}: not in the OCSF dictionary`);
      let element = described;
      if (attribute.is_array) {
        if (!Array.isArray(described)) return problems.push(`${path}: an array in OCSF, not a list here`);
        element = described[0]!;
      }
      if (objects.has(attribute.type)) {
        if (typeof element !== 'object' || Array.isArray(element)) return problems.push(`${path}: an object (${attribute.type}) in OCSF, not a struct here`);
        for (const [child, type] of Object.entries(element)) check(child, type, `${path}.${child}`);
        return;
      }
      const expected = attribute.type === 'integer_t' ? 'int32' : attribute.type === 'long_t' || attribute.type === 'timestamp_t' ? 'int64' : 'string';
      if (element !== expected) problems.push(`${path}: ${JSON.stringify(element)}, OCSF ${attribute.type} wants ${expected}`);
    };
    for (const [name, type] of Object.entries(file!.schema)) check(name, type, name);
    expect(problems).toEqual([]);
    expect(file!.schema).toMatchObject({ time: 'int64', finding_info: { uid: 'string' }, compliance: { standards: ['string'], status_id: 'int32' }, resources: [{ uid: 'string', data: 'string' }] });
  });

  test('--out DIR: files in the Security Lake layout region=/accountId=/eventDay=, each row in the partition of its own Region, account and UTC day, each file in time order', async () => {
    const out = join(workdir, 'lake');
    const run = await sseguard(['report', '--format', 'ocsf-parquet', '--out', out], { SSEGUARD_ACCOUNT_ID: '123456789012' });
    expect(run.code, run.stderr).toBe(0);
    const files = filesUnder(out);
    expect(files.map((path) => relative(out, path).replace(/sseguard-\w+-\d{5}\.parquet$/, ''))).toEqual([
      'region=eu-west-1/accountId=111111111111/eventDay=20261120/',
      'region=us-east-1/accountId=123456789012/eventDay=20261120/',
      'region=us-east-1/accountId=123456789012/eventDay=20261121/',
    ]);
    const events: unknown[] = [];
    for (const file of readWithPyarrow(files)) {
      const [, region, account, day] = /region=([^/]+)\/accountId=(\d+)\/eventDay=(\d{8})\//.exec(file.path)!;
      // Security Lake asks each object's rows in time order.
      const times = file.rows.map((row) => row.time as number);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      for (const row of file.rows.map(eventOfRow) as { cloud: { region: string; account: { uid: string } }; time: number }[]) {
        expect([row.cloud.region, row.cloud.account.uid, new Date(row.time).toISOString().slice(0, 10).replaceAll('-', '')]).toEqual([region, account, day]);
        expect(ocsf.validate('compliance_finding', row)).toEqual([]);
        events.push(row);
      }
    }
    expect(events.sort(byUid)).toEqual([...jsonLines].sort(byUid));
  });

  test('a filter that matches nothing still writes a readable file with the schema and no rows; --out is refused without ocsf-parquet and required with it', async () => {
    const out = join(workdir, 'none.parquet');
    const run = await sseguard(['report', '--format', 'ocsf-parquet', '--out', out, '--region', 'ap-south-2']);
    expect(run.code, run.stderr).toBe(0);
    const [file] = readWithPyarrow([out]);
    expect(file!.rows).toEqual([]);
    expect(Object.keys(file!.schema)).toContain('finding_info');
    const missing = await sseguard(['report', '--format', 'ocsf-parquet']);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining('--format ocsf-parquet writes files: give --out')]);
    const misplaced = await sseguard(['report', '--format', 'csv', '--out', out]);
    expect([misplaced.code, misplaced.stderr]).toEqual([2, expect.stringContaining('--out is for --format ocsf-parquet')]);
  });
});

describe('GET /export.ocsf-parquet', { timeout: CLI_TIMEOUT_MS }, () => {
  const TOKEN = 'parquet-token-0123456789abcdef0123456789abcdef';
  const auth = { authorization: `Bearer ${TOKEN}` };
  beforeAll(() => {
    process.env.SSEGUARD_TABLE = TABLE;
    process.env.SSEGUARD_API_TOKEN = TOKEN;
    process.env.SSEGUARD_ACCOUNT_ID = '123456789012';
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    delete process.env.SSEGUARD_CURSOR_SECRET;
  });

  test('the Lambda answers base64-encoded Parquet that pyarrow reads: the same events as /export.ocsf, valid OCSF 1.3.0', async () => {
    resetHandlerRuntime();
    const module = await import('../../functions/report-api.ts');
    module.resetReportApi();
    const handler = module.handler as unknown as (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
    const invoke = (path: string, query: string) =>
      handler(
        {
          version: '2.0',
          routeKey: '$default',
          rawPath: path,
          rawQueryString: query,
          headers: auth,
          isBase64Encoded: false,
          requestContext: { http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' }, requestId: 'test', stage: '$default' },
        } as unknown as APIGatewayProxyEventV2,
        { invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:sseguard-report-api', getRemainingTimeInMillis: () => 30_000 } as Context,
      );
    const answer = await invoke('/export.ocsf-parquet', 'verdict=at-risk');
    expect([answer.statusCode, answer.isBase64Encoded, answer.headers!['content-type']]).toEqual([200, true, 'application/vnd.apache.parquet']);
    const path = join(workdir, 'api.parquet');
    writeFileSync(path, Buffer.from(answer.body!, 'base64'));
    const events = readWithPyarrow([path])[0]!.rows.map(eventOfRow);
    for (const event of events) expect(ocsf.validate('compliance_finding', event)).toEqual([]);
    const lines = (await invoke('/export.ocsf', 'verdict=at-risk')).body!.trim().split('\n').map((line) => JSON.parse(line) as unknown);
    expect(events.length).toBe(seeded.filter((f) => f.verdict === 'at-risk').length);
    expect([...events].sort(byUid)).toEqual(lines.sort(byUid));
  });

  test('sseguard serve sends the same Parquet bytes over HTTP, whole (no budget, no link)', async () => {
    const api = createReportApi(createRuntime(loadConfig()), loadReportApiConfig());
    const server = await startReportServer(api, { port: 0, host: '127.0.0.1' }, () => {});
    try {
      const response = await fetch(`${server.url}/export.ocsf-parquet?bucket=odd-keys`, { headers: auth });
      expect([response.status, response.headers.get('content-type'), response.headers.get('link')]).toEqual([200, 'application/vnd.apache.parquet', null]);
      const path = join(workdir, 'served.parquet');
      writeFileSync(path, Buffer.from(await response.arrayBuffer()));
      const events = readWithPyarrow([path])[0]!.rows.map(eventOfRow);
      expect(events.sort(byUid)).toEqual(jsonLines.filter((e) => (e as { finding_info: { uid: string } }).finding_info.uid.startsWith('sseguard/odd-keys/')).sort(byUid));
    } finally {
      await server.close();
    }
  });

  test('a buffered transport gets files linked by rel="next" that together hold every finding once', async () => {
    const api = createReportApi(createRuntime(loadConfig()), loadReportApiConfig());
    let query = '';
    const events: unknown[] = [];
    let pages = 0;
    for (;;) {
      const response = await api.handle({ method: 'GET', rawPath: '/export.ocsf-parquet', rawQuery: query, headers: auth }, { maxBodyBytes: 40_000 });
      expect(response.status).toBe(200);
      const path = join(workdir, `page-${pages++}.parquet`);
      writeFileSync(path, response.body as Uint8Array);
      events.push(...readWithPyarrow([path])[0]!.rows.map(eventOfRow));
      const link = response.headers.link;
      if (!link) break;
      query = /^<\/export\.ocsf-parquet\?([^>]+)>; rel="next"$/.exec(link)![1]!;
    }
    expect(pages).toBeGreaterThan(2);
    expect(events.sort(byUid)).toEqual([...jsonLines].sort(byUid));
  });
});
