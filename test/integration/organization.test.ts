// One run over an AWS Organization on the emulator: 20 member accounts in two OUs and two Regions,
// each reached through its own audit role (moto's AssumeRole credentials act in the role's account).
// moto enforces no trust policy or external id: the account whose role refuses AssumeRole is made
// at the STS client boundary, in AWS's shape (test/support/organization.ts, refusingAssumeRole).
import { PassThrough } from 'node:stream';
import { beforeAll, expect, test } from 'vitest';
import { accountsCommand, accountsInScope, accountsScanCommand } from '../../cli/commands/accounts.ts';
import { reportCommand } from '../../cli/commands/report.ts';
import { loadConfig } from '../../shared/config.ts';
import { ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { buildOrganization, refusingAssumeRole, type TestOrganization } from '../support/organization.ts';
import { runCli } from '../support/cli.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { createReportApi } from '../../shared/report-api/create-report-api.ts';
import { loadReportApiConfig } from '../../shared/report/api-config.ts';

let org: TestOrganization;

interface RunFinding {
  account: string;
  region: string;
  bucket: string;
  key: string;
  verdict: string;
  kmsKeyArn: string | null;
}
interface RunOutput {
  findings: RunFinding[];
  summary: { accounts: { account: string; status: string; regions: string[]; buckets: number; objects: number }[]; gaps: { account: string; reason: string }[]; exitCode: number };
}

async function run<T>(command: (out: PassThrough) => Promise<number>): Promise<{ code: number; output: T }> {
  const out = new PassThrough();
  let printed = '';
  out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const code = await command(out);
  return { code, output: JSON.parse(printed) as T };
}

const scanOrg = (options: { record?: boolean; accounts?: string[] } = {}) => {
  const sts = refusingAssumeRole(org.blocked);
  return {
    sts,
    result: run<RunOutput>((out) =>
      accountsScanCommand(
        loadConfig(),
        { ...(options.accounts ? { accounts: options.accounts } : { org: true }), roleName: 'sseguard-audit', concurrency: 8, json: true, record: options.record ?? false },
        out,
        { sts },
      ),
    ),
  };
};

/** The one recorded `scan --org` the report tests read (made by whichever test needs it first). */
let recorded: ReturnType<typeof scanOrg> | undefined;
const recordedRun = () => (recorded ??= scanOrg({ record: true }));

const verdictMap = (findings: RunFinding[]) => Object.fromEntries(findings.map((f) => [`${f.account}/${f.bucket}/${f.key}`, f.verdict]));

beforeAll(async () => {
  const runtime = createRuntime(loadConfig());
  await ensureFindingsTable(runtime.clients.dynamodb, runtime.config.table);
  org = await buildOrganization({ members: 20 });
}, 180_000);

test('scan --org covers every ACTIVE account through its own role; the account whose role refuses AssumeRole (STS boundary fake) is a named gap, no verdict, exit 2', async () => {
  const { sts, result } = recordedRun();
  const { code, output } = await result;
  expect(code).toBe(2);
  expect(output.summary.exitCode).toBe(2);
  // Every member and the management account are in scope; only the refusing one is a gap.
  expect(output.summary.accounts.map((a) => a.account).sort()).toEqual([org.management, ...org.members.map((m) => m.id)].sort());
  expect(output.summary.gaps).toEqual([{ account: org.blocked, reason: expect.stringContaining('AccessDenied') }]);
  expect(output.summary.accounts.find((a) => a.account === org.blocked)).toMatchObject({ status: 'gap', objects: 0 });
  expect(output.findings.filter((f) => f.account === org.blocked)).toEqual([]);
  // Each covered member: its one bucket, in its Region, every object audited and stamped with both.
  for (const member of org.members.filter((m) => m.id !== org.blocked)) {
    expect(output.summary.accounts.find((a) => a.account === member.id)).toMatchObject({ status: 'covered', regions: [member.region], buckets: 1 });
    const mine = output.findings.filter((f) => f.bucket === member.bucket);
    expect(mine.length).toBeGreaterThanOrEqual(3);
    for (const finding of mine) expect(finding).toMatchObject({ account: member.id, region: member.region });
  }
  expect(new Set(org.members.map((m) => m.region)).size).toBe(2);
  // One AssumeRole per member account, however many clients and Regions each used.
  expect(sts.assumeRoleCalls.length).toBe(org.members.length);
  expect(new Set(sts.assumeRoleCalls).size).toBe(org.members.length);
});

test('verdicts: SSE-C noncompliant, a disabled key at risk, and a key in account A protecting objects of B–E described with A\'s role: compliant', async () => {
  const { output } = await scanOrg().result;
  const byObject = verdictMap(output.findings);
  for (const member of org.members.filter((m) => m.id !== org.blocked)) {
    expect(byObject[`${member.id}/${member.bucket}/data/sse-s3.txt`]).toBe('compliant');
    expect(byObject[`${member.id}/${member.bucket}/data/sse-c.bin`]).toBe('noncompliant');
    expect(byObject[`${member.id}/${member.bucket}/data/own-key.txt`]).toBe(member.id === org.atRisk ? 'at-risk' : 'compliant');
  }
  const shared = output.findings.filter((f) => f.kmsKeyArn === org.sharedKey.arn);
  expect(new Set(shared.map((f) => f.account))).toEqual(new Set([org.sharedKey.owner, ...org.sharedKey.usedBy]));
  expect(shared.every((f) => f.verdict === 'compliant')).toBe(true);
});

test('scan --org gives each account the verdicts a scan of that account alone gives', async () => {
  const { output: whole } = await scanOrg().result;
  const some = org.members.filter((m) => m.id !== org.blocked).slice(0, 6);
  for (const member of some) {
    const { code, output } = await scanOrg({ accounts: [member.id] }).result;
    expect(code).toBe(1);
    expect(verdictMap(output.findings)).toEqual(verdictMap(whole.findings.filter((f) => f.account === member.id)));
  }
});

test('report --account and --region filter the recorded findings; the summary counts per account, the worst first', async () => {
  await recordedRun().result;
  const runReport = (options: { account?: string; region?: string }) =>
    run<{ summary: { accounts: Record<string, { objects: number }> }; findings: RunFinding[] }>((out) => reportCommand(loadConfig(), { format: 'json', ...options }, out));
  const member = org.members[1]!;
  const { output: one } = await runReport({ account: member.id });
  expect(one.findings.length).toBeGreaterThanOrEqual(3);
  expect(one.findings.every((f) => f.account === member.id && f.bucket === member.bucket)).toBe(true);
  const { output: eu } = await runReport({ region: 'eu-west-1' });
  const euMembers = org.members.filter((m) => m.region === 'eu-west-1' && m.id !== org.blocked);
  expect(new Set(eu.findings.map((f) => f.account))).toEqual(new Set(euMembers.map((m) => m.id)));
  // Filters narrow the summary too: the account's own counts; unfiltered, every covered account.
  expect(Object.keys(one.summary.accounts)).toEqual([member.id]);
  const { output: all } = await runReport({});
  expect(Object.keys(all.summary.accounts).sort()).toEqual(org.members.filter((m) => m.id !== org.blocked).map((m) => m.id).sort());

  const out = new PassThrough();
  let printed = '';
  out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  await reportCommand(loadConfig(), { format: 'table' }, out);
  const accountRows = printed.split('\n').filter((line) => /^\d{12}\s/.test(line));
  // The account whose key is disabled has the most objects not proven compliant: it comes first.
  expect(accountRows[0]).toContain(org.atRisk);
});

test('the report API filters by account and Region, summarises per account (worst first), and exports ASFF with each object\'s own account', async () => {
  await recordedRun().result;
  const token = 'org-test-token-0123456789abcdef0123456789';
  const api = createReportApi(createRuntime(loadConfig()), loadReportApiConfig({ ...process.env, SSEGUARD_API_TOKEN: token, SSEGUARD_ACCOUNT_ID: org.management }));
  const get = async (rawPath: string, rawQuery = '') => {
    const answer = await api.handle({ method: 'GET', rawPath, rawQuery, headers: { authorization: `Bearer ${token}` } });
    let body = '';
    if (typeof answer.body === 'string') body = answer.body;
    else for await (const chunk of answer.body) body += chunk;
    return { status: answer.status, body };
  };
  const member = org.members[4]!;
  const findings = JSON.parse((await get('/findings', `account=${member.id}`)).body) as { findings: RunFinding[] };
  expect(findings.findings.length).toBeGreaterThanOrEqual(3);
  expect(findings.findings.every((f) => f.account === member.id && f.region === member.region)).toBe(true);
  const inRegion = JSON.parse((await get('/findings', `region=eu-west-1&limit=1000`)).body) as { findings: RunFinding[] };
  expect(inRegion.findings.length).toBeGreaterThan(0);
  expect(inRegion.findings.every((f) => f.region === 'eu-west-1')).toBe(true);
  expect((await get('/findings', 'account=12345')).status).toBe(400);
  const summary = JSON.parse((await get('/summary')).body) as { accounts: { account: string; objects: number }[] };
  expect(summary.accounts[0]!.account).toBe(org.atRisk);
  expect(summary.accounts.map((a) => a.account).sort()).toEqual(org.members.filter((m) => m.id !== org.blocked).map((m) => m.id).sort());
  // /accounts: the account the run could not reach first (a gap, no findings), then the worst covered one.
  const accounts = (JSON.parse((await get('/accounts')).body) as { accounts: { account: string; coverage: { status: string; gaps: { reason: string }[] }; atRiskKeys: { arn: string }[] }[] }).accounts;
  expect(accounts[0]).toMatchObject({ account: org.blocked, coverage: { status: 'gap', gaps: [{ reason: expect.stringContaining('AccessDenied') }] } });
  expect(accounts[1]).toMatchObject({ account: org.atRisk, coverage: { status: 'covered' } });
  expect(accounts[1]!.atRiskKeys.map((k) => k.arn)).toEqual([org.members.find((m) => m.id === org.atRisk)!.keyArn]);
  const asff = (JSON.parse((await get('/export.asff', `account=${member.id}`)).body) as { Findings: { AwsAccountId: string; ProductArn: string; Resources: { Region: string }[] }[] }).Findings;
  expect(asff.length).toBeGreaterThanOrEqual(3);
  for (const finding of asff) {
    expect(finding.AwsAccountId).toBe(member.id);
    expect(finding.ProductArn).toBe(`arn:aws:securityhub:${member.region}:${member.id}:product/${member.id}/default`);
    expect(finding.Resources[0]!.Region).toBe(member.region);
  }
});

test('--ou takes the accounts under an OU at any depth; --exclude leaves accounts out', async () => {
  const config = loadConfig();
  const all = await accountsInScope(config, { org: true, roleName: 'sseguard-audit' });
  expect(all).toEqual([org.management, ...org.members.map((m) => m.id)].sort());
  const underWorkloads = await accountsInScope(config, { org: true, ous: [org.ous.workloads], roleName: 'sseguard-audit' });
  expect(underWorkloads).toEqual(org.members.map((m) => m.id).sort());
  const sandbox = await accountsInScope(config, { org: true, ous: [org.ous.sandbox], exclude: [org.members[1]!.id], roleName: 'sseguard-audit' });
  expect(sandbox).toEqual(org.members.filter((m) => m.ou === 'sandbox' && m.id !== org.members[1]!.id).map((m) => m.id).sort());
});

test('sseguard accounts shows per account whether its role can be assumed, its Regions and bucket count; exit 2 for the refusing one (STS boundary fake)', async () => {
  const { code, output } = await run<{ accounts: { account: string; assumable: boolean; regions: string[]; buckets: number; reason?: string }[] }>((out) =>
    accountsCommand(loadConfig(), { org: true, roleName: 'sseguard-audit', json: true }, out, { sts: refusingAssumeRole(org.blocked) }),
  );
  expect(code).toBe(2);
  expect(output.accounts.find((a) => a.account === org.blocked)).toMatchObject({ assumable: false, buckets: 0, reason: expect.stringContaining('AccessDenied') });
  for (const member of org.members.filter((m) => m.id !== org.blocked)) {
    expect(output.accounts.find((a) => a.account === member.id)).toEqual({ account: member.id, assumable: true, regions: [member.region], buckets: 1 });
  }
});

test('the CLI: scan --accounts with a role-name ARN template audits those accounts through the emulator\'s STS', async () => {
  const [a, b] = [org.members[2]!, org.members[5]!];
  const { code, stdout, stderr } = await runCli(['scan', '--accounts', `${a.id},${b.id}`, '--role-name', 'arn:{partition}:iam::{account}:role/sseguard-audit', '--json', '--no-record']);
  expect(stderr).toBe('');
  expect(code).toBe(1); // SSE-C objects are noncompliant under the default policy
  const output = JSON.parse(stdout) as RunOutput;
  expect(output.summary.gaps).toEqual([]);
  expect(new Set(output.findings.map((f) => `${f.account}/${f.region}/${f.bucket}`))).toEqual(new Set([a, b].map((m) => `${m.id}/${m.region}/${m.bucket}`)));
});

test('injected faults: a member bucket whose listing fails with 5xx after every retry is a named gap (exit 2), no verdict; the other accounts are covered', async () => {
  const failing = org.members[6]!;
  const proxy = await startFaultProxy({ target: process.env.AWS_ENDPOINT_URL!, rules: [{ service: 's3', operation: 'ListObjectsV2', path: new RegExp(`^/${failing.bucket}`), rate: 1, kind: 'server-error' }] });
  try {
    const base = loadConfig();
    const config = { ...base, endpoints: Object.fromEntries(Object.keys(base.endpoints).map((service) => [service, proxy.endpoint])) };
    const sts = refusingAssumeRole('000000000000');
    const { code, output } = await run<RunOutput>((out) => accountsScanCommand(config, { accounts: [failing.id, org.members[7]!.id], roleName: 'sseguard-audit', concurrency: 4, json: true, record: false }, out, { sts }));
    expect(code).toBe(2);
    expect(output.summary.gaps).toEqual([{ account: failing.id, region: failing.region, bucket: failing.bucket, reason: expect.any(String) }]);
    expect(output.summary.accounts.find((a) => a.account === failing.id)).toMatchObject({ status: 'partial', objects: 0 });
    expect(output.findings.filter((f) => f.account === failing.id)).toEqual([]);
    expect(output.summary.accounts.find((a) => a.account === org.members[7]!.id)).toMatchObject({ status: 'covered' });
    expect(proxy.stats().faults).not.toEqual({});
  } finally {
    await proxy.close();
  }
}, 120_000);
