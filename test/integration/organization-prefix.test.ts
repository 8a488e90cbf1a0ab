// `scan --org --prefix P`: every account's buckets, only keys under P; the run record says so, and
// the report's account view shows the coverage as a prefix's, not the whole account's.
import { PassThrough } from 'node:stream';
import { beforeAll, expect, test } from 'vitest';
import { accountsScanCommand } from '../../cli/commands/accounts.ts';
import { loadConfig } from '../../shared/config.ts';
import { ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { loadReportApiConfig } from '../../shared/report/api-config.ts';
import { createReportApi } from '../../shared/report-api/create-report-api.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { runCli } from '../support/cli.ts';
import { buildOrganization, refusingAssumeRole, type TestOrganization } from '../support/organization.ts';

Object.assign(process.env, { SSEGUARD_TABLE: 'org-prefix-findings' });
let org: TestOrganization;

beforeAll(async () => {
  const runtime = createRuntime(loadConfig());
  await ensureFindingsTable(runtime.clients.dynamodb, runtime.config.table);
  org = await buildOrganization({ members: 4 });
}, 120_000);

test('scan --org --prefix audits only keys under the prefix in every account; the run record and GET /accounts say the coverage is the prefix only', async () => {
  const out = new PassThrough();
  let printed = '';
  out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const code = await accountsScanCommand(
    loadConfig(),
    { org: true, roleName: 'sseguard-audit', prefix: 'data/sse-', concurrency: 4, json: true, record: true },
    out,
    { sts: refusingAssumeRole(org.blocked) },
  );
  expect(code).toBe(2);
  const output = JSON.parse(printed) as { scan: { prefix: string }; findings: { account: string; key: string }[] };
  expect(output.scan.prefix).toBe('data/sse-');
  const reached = org.members.filter((m) => m.id !== org.blocked);
  expect(output.findings.map((f) => `${f.account}/${f.key}`).sort()).toEqual(reached.flatMap((m) => [`${m.id}/data/sse-c.bin`, `${m.id}/data/sse-s3.txt`]).sort());

  const token = 'org-prefix-token-0123456789abcdef012345678';
  const api = createReportApi(createRuntime(loadConfig()), loadReportApiConfig({ ...process.env, SSEGUARD_API_TOKEN: token }));
  const answer = await api.handle({ method: 'GET', rawPath: '/accounts', rawQuery: '', headers: { authorization: `Bearer ${token}` } });
  const accounts = (JSON.parse(answer.body as string) as { accounts: { account: string; coverage: { status: string; prefix?: string } }[] }).accounts;
  for (const member of reached) expect(accounts.find((a) => a.account === member.id)?.coverage).toMatchObject({ status: 'covered', prefix: 'data/sse-' });
});

test('the CLI takes --prefix with --accounts (it used to refuse it)', async () => {
  const member = org.members[1]!;
  const run = await runCli(['scan', '--accounts', member.id, '--prefix', 'data/own', '--json', '--no-record']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect((JSON.parse(run.stdout) as { findings: { key: string }[] }).findings.map((f) => f.key)).toEqual(['data/own-key.txt']);
});
