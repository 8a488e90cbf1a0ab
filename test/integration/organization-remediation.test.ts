// `scan --org --remediate`: objects the policy says to fix are fixed in each member account through
// that member's opt-in remediation role (moto's AssumeRole credentials act in the role's account),
// each once; a member whose remediation role refuses AssumeRole (STS boundary fake: moto enforces
// no trust policy) is audited, not fixed, and named as a gap (exit 2).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, expect, test } from 'vitest';
import { accountsScanCommand, type AccountsScanOptions } from '../../cli/commands/accounts.ts';
import { loadConfig } from '../../shared/config.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { runCli } from '../support/cli.ts';
import { buildOrganization, refusingAssumeRole, refusingAssumeRoles, type TestOrganization } from '../support/organization.ts';

Object.assign(process.env, { SSEGUARD_TABLE: 'org-fix-findings', SSEGUARD_IDEMPOTENCY_TABLE: 'org-fix-idempotency' });
const dir = mkdtempSync(join(tmpdir(), 'sseguard-org-fix-'));
const policy = join(dir, 'sse-s3.yaml');
writeFileSync(policy, 'version: 1\ndefault: { require: sse-s3, remediate: true, target: { mode: sse-s3 } }\n');
let org: TestOrganization;

interface Output {
  findings: { account: string; key: string; verdict: string }[];
  summary: { gaps: { account: string; bucket?: string; reason: string }[]; remediation?: { outcomes: Record<string, number> } };
}

async function scan(options: Partial<AccountsScanOptions>, sts = refusingAssumeRole(org.blocked)): Promise<{ code: number; output: Output }> {
  const out = new PassThrough();
  let printed = '';
  out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const code = await accountsScanCommand(loadConfig(), { org: true, roleName: 'sseguard-audit', policy, concurrency: 4, json: true, record: true, ...options }, out, { sts });
  return { code, output: JSON.parse(printed) as Output };
}

beforeAll(async () => {
  const runtime = createRuntime(loadConfig());
  await ensureFindingsTable(runtime.clients.dynamodb, runtime.config.table);
  await ensureIdempotencyTable(runtime.clients.dynamodb, runtime.config.idempotencyTable);
  org = await buildOrganization({ members: 5 });
}, 120_000);

test('scan --org --dry-run plans each member\'s fixes and changes nothing (no remediation role is assumed)', async () => {
  const sts = refusingAssumeRole(org.blocked);
  const { code, output } = await scan({ dryRun: true }, sts);
  expect(code).toBe(2); // the blocked account is a gap
  const reached = org.members.filter((m) => m.id !== org.blocked);
  const summary = output.summary as Output['summary'] & { remediation: { mode: string; outcomes: Record<string, number>; totals: { objects: number } } };
  expect(summary.remediation.mode).toBe('dry-run');
  // own-key.txt of every reached member but the at-risk one (its key is disabled), and the shared-key objects.
  const shared = org.sharedKey.usedBy.filter((id) => reached.some((m) => m.id === id)).length;
  expect(summary.remediation.outcomes.planned).toBe(reached.length - 1 + shared);
  for (const member of reached) {
    const head = await member.clients.s3.send(new HeadObjectCommand({ Bucket: member.bucket, Key: 'data/own-key.txt' }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
  }
  expect(sts.assumeRoleCalls.some((arn) => arn.endsWith(':role/sseguard-remediation'))).toBe(false);
});

test('scan --org --remediate fixes each member\'s objects with its remediation role, once; one whose remediation role refuses is audited, not fixed, a named gap (exit 2)', async () => {
  const refusesFixes = org.members[2]!;
  // The audit role of org.blocked and the remediation role of refusesFixes are refused.
  const sts = refusingAssumeRoles([{ account: org.blocked }, { account: refusesFixes.id, role: 'sseguard-remediation' }]);
  const { code, output } = await scan({ remediate: true }, sts);
  expect(code).toBe(2);
  expect(output.summary.gaps).toHaveLength(2);
  expect(output.summary.gaps).toEqual(
    expect.arrayContaining([
      { account: org.blocked, reason: expect.stringContaining('AccessDenied') },
      { account: refusesFixes.id, region: refusesFixes.region, bucket: refusesFixes.bucket, reason: expect.stringMatching(/^audited, not fixed: .*AccessDenied/) },
    ]),
  );
  const fixedAccounts = org.members.filter((m) => m.id !== org.blocked && m.id !== refusesFixes.id && m.id !== org.atRisk);
  for (const member of fixedAccounts) {
    const head = await member.clients.s3.send(new HeadObjectCommand({ Bucket: member.bucket, Key: 'data/own-key.txt' }));
    expect(head.ServerSideEncryption, member.id).toBe('AES256');
    expect(output.findings.find((f) => f.account === member.id && f.key === 'data/own-key.txt')?.verdict).toBe('compliant');
  }
  // The member whose remediation role refused: audited (noncompliant), left as it was.
  const untouched = await refusesFixes.clients.s3.send(new HeadObjectCommand({ Bucket: refusesFixes.bucket, Key: 'data/own-key.txt' }));
  expect(untouched.ServerSideEncryption).toBe('aws:kms');
  expect(output.findings.find((f) => f.account === refusesFixes.id && f.key === 'data/own-key.txt')?.verdict).toBe('noncompliant');
  const sharedFixed = org.sharedKey.usedBy.filter((id) => fixedAccounts.some((m) => m.id === id)).length;
  expect(output.summary.remediation?.outcomes.fixed).toBe(fixedAccounts.length + sharedFixed);

  // Run again: nothing left to fix in those accounts.
  const again = await scan({ remediate: true, accounts: fixedAccounts.map((m) => m.id), org: false });
  expect(again.output.summary.remediation?.outcomes.fixed ?? 0).toBe(0);
});

test('the CLI: scan --accounts --remediate takes --remediation-role-name (a name or an ARN template); without --accounts/--org that flag is refused', async () => {
  const member = org.members[1]!;
  const run = await runCli(['scan', '--accounts', member.id, '--remediate', '--remediation-role-name', 'arn:{partition}:iam::{account}:role/sseguard-remediation', '--policy', policy, '--json', '--no-record']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(1); // the SSE-C object cannot be read, let alone fixed: still noncompliant
  // The first test fixed this member already: a remediating run with nothing left to fix.
  expect(JSON.parse(run.stdout).summary.remediation).toEqual({ mode: 'fix', outcomes: {} });
  const single = await runCli(['scan', '--bucket', member.bucket, '--remediation-role-name', 'other']);
  expect(single.code).toBe(2);
  expect(single.stderr).toContain('--remediation-role-name needs --accounts or --org');
});
