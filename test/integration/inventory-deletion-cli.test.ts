// `sseguard scan --inventory`, run as a user runs it, removes a recorded object the report does not
// list only by the deletion rule the audit worker uses (shared/audit/inventory-absence.ts): a
// HeadObject 404, or two consecutive reports. Reports are eventually consistent, so one report alone
// never removes an object; a HeadObject that cannot answer (throttled, in AWS's own shape through the
// fault proxy) keeps it, marks it, and makes the run incomplete (exit 2), never a verdict.
import { DeleteObjectCommand, PutBucketInventoryConfigurationCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { deliverInventory, type InventoryDelivery } from '../../cli/commands/deliver-inventory.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import type { StoredFinding } from '../../shared/findings/store.ts';
import { ObjectAbsenceMarks } from '../../shared/findings/absence-marks.ts';
import { inventoryConfiguration } from '../../shared/inventory/setup.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { createBucket, putObject } from '../support/aws-fixtures.ts';
import { runCli } from '../support/cli.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';

const emulator = inject('emulatorEndpoint');
const SOURCE = 'inv-deletion-source';
const DESTINATION = 'inv-deletion-reports';
const TABLE = 'inv-deletion-findings';
// Few SDK attempts: a throttled HeadObject gives up in well under a second.
const ENV = { SSEGUARD_TABLE: TABLE, SSEGUARD_POLICY: undefined, SSEGUARD_MAX_ATTEMPTS: '2', SSEGUARD_SOCKET_TIMEOUT_MS: '5000' };

// deleted from the bucket, its HeadObject throttled: kept and marked, then removed by the next report.
const GONE_THROTTLED = 'gone-throttled';
// deleted from the bucket: HeadObject answers 404, removed at once.
const GONE = 'gone-404';
// missing from the second report but in S3 (written again after the report was made): the report's
// eventual consistency. Its HeadObject is throttled first (marked), then reads it (mark cleared).
const LATE_READ = 'late-read';
// as LATE_READ, its HeadObject throttled in both runs of the second report: the third report lists it and clears the mark.
const LATE_LISTED = 'late-listed';
const STEADY = ['steady-1', 'steady-2'];

const writer = createAwsClients();
let proxy: FaultProxy;

const throttleHeadOf = (...keys: string[]) =>
  proxy.setRules(keys.map((key) => ({ service: 's3' as const, operation: 'HeadObject', path: new RegExp(`/${SOURCE}/${key}$`), rate: 1, kind: 'throttle' as const })));

const scan = (extra: string[] = []) =>
  runCli(['scan', '--bucket', SOURCE, '--inventory', `s3://${DESTINATION}/reports`, ...extra], { ...ENV, AWS_ENDPOINT_URL: proxy.endpoint });

async function states(): Promise<Map<string, StoredFinding>> {
  const found = new Map<string, StoredFinding>();
  const runtime = createRuntime(loadConfig({ ...process.env, ...ENV, AWS_ENDPOINT_URL: emulator }));
  for await (const page of runtime.store.findings({ bucket: SOURCE })) for (const f of page) found.set(f.key, f);
  return found;
}

let second: InventoryDelivery | undefined;

beforeAll(async () => {
  proxy = await startFaultProxy({ target: emulator });
  const runtime = createRuntime(loadConfig({ ...process.env, ...ENV, AWS_ENDPOINT_URL: emulator }));
  await ensureFindingsTable(runtime.clients.dynamodb, TABLE);
  await createBucket(writer, SOURCE);
  await createBucket(writer, DESTINATION);
  for (const key of [GONE_THROTTLED, GONE, LATE_READ, LATE_LISTED, ...STEADY]) await putObject(writer, SOURCE, key, { mode: 'sse-s3' });
  await writer.s3.send(
    new PutBucketInventoryConfigurationCommand({
      Bucket: SOURCE,
      Id: 'sseguard',
      InventoryConfiguration: inventoryConfiguration({ bucket: SOURCE, destinationBucket: DESTINATION, prefix: 'reports' }),
    }),
  );
  // The first report, dated before the objects were first audited: every object listed.
  await deliverInventory(emulator, { bucket: SOURCE, at: new Date(Date.now() - 180_000) });
  const first = await scan(['--json']);
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect((await states()).size).toBe(6);

  // Four objects deleted; the second report (dated now, after their audit) lists none of them.
  for (const key of [GONE_THROTTLED, GONE, LATE_READ, LATE_LISTED]) await writer.s3.send(new DeleteObjectCommand({ Bucket: SOURCE, Key: key }));
  [second] = await deliverInventory(emulator, { bucket: SOURCE });
  // Two are written again after the report was made: S3 holds them, the report missed them.
  for (const key of [LATE_READ, LATE_LISTED]) await putObject(writer, SOURCE, key, { mode: 'sse-s3' });
}, 120_000);

afterAll(async () => {
  await proxy?.close();
});

describe('sseguard scan --inventory: an object one report does not list', () => {
  test('is removed when HeadObject answers 404, kept and marked when HeadObject is throttled (exit 2, named), kept when HeadObject reads it', async () => {
    throttleHeadOf(GONE_THROTTLED, LATE_READ, LATE_LISTED);
    proxy.resetStats();
    const run = await scan(['--json']);
    proxy.setRules([]);
    expect(run.stderr).toBe('');
    // A HeadObject that could not answer is a coverage gap: incomplete, whatever the verdicts.
    expect(run.code).toBe(2);
    const summary = JSON.parse(run.stdout).summary;
    expect(summary.exitCode).toBe(2);
    expect(summary.inventory.manifestKey).toBe(second!.manifestKey);
    expect(summary.inventory.absence).toMatchObject({
      notListed: 4,
      removed: 1,
      removedBy404: 1,
      removedBySecondReport: 0,
      keptByHead: 0,
      keptUnanswered: 3,
      marked: 3,
    });
    expect(summary.inventory.absence.unanswered.map((u: { key: string }) => u.key).sort()).toEqual([GONE_THROTTLED, LATE_LISTED, LATE_READ].sort());
    expect(summary.inventory.absence.unanswered[0].why).toMatch(/HTTP 503/);
    // Not audited this run (their existence unknown): the run record counts them, so the run is partial, never complete.
    expect(summary.notAudited).toBe(3);
    expect(proxy.stats().faults['s3:HeadObject:throttle']).toBeGreaterThanOrEqual(3);

    const found = await states();
    expect(found.has(GONE)).toBe(false);
    for (const key of [GONE_THROTTLED, LATE_READ, LATE_LISTED]) expect(found.get(key)).toMatchObject({ rev: 1, absentFrom: summary.inventory.reportDate });
    expect(found.size).toBe(5);
  });

  test('the same report again, HeadObject reading the object written again: kept and its mark cleared; the one still throttled stays marked (text output says so)', async () => {
    throttleHeadOf(GONE_THROTTLED, LATE_LISTED);
    const run = await scan();
    proxy.setRules([]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('0 recorded objects no longer listed were removed; 3 recorded objects were not listed: 1 kept: HeadObject read them (the report missed them); 2 kept as recorded: no HeadObject could answer (2 marked absent from this report: a 404 or the next report decides). 1 marks of an earlier absence cleared');
    expect(run.stdout).toMatch(/2 recorded objects the report does not list were kept as recorded: the HeadObject that would say whether they are gone was throttled/);
    expect(run.stdout).toMatch(new RegExp(`${GONE_THROTTLED}\\s.*HTTP 503`));

    const found = await states();
    expect(found.get(LATE_READ)).toMatchObject({ rev: 1 });
    expect(found.get(LATE_READ)?.absentFrom).toBeUndefined();
    expect(found.get(GONE_THROTTLED)?.absentFrom).toEqual(expect.any(String));
    expect(found.get(LATE_LISTED)?.absentFrom).toEqual(expect.any(String));
  });

  test('the next report missing it too: removed without a HeadObject; the object the next report lists again keeps its finding, mark cleared; every recorded finding reconciled (exit 0)', async () => {
    // Report folders are named to the minute: dated a minute on.
    const [third] = await deliverInventory(emulator, { bucket: SOURCE, at: new Date(Date.now() + 60_000) });
    // Were the rule to ask S3 about either, it would be throttled and the run would exit 2: it must not need to.
    throttleHeadOf(GONE_THROTTLED, LATE_LISTED);
    proxy.resetStats();
    const run = await scan(['--json']);
    proxy.setRules([]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout).summary;
    expect(summary.inventory.manifestKey).toBe(third!.manifestKey);
    expect(proxy.stats().faults['s3:HeadObject:throttle'] ?? 0).toBe(0);
    expect(summary.inventory.absence).toMatchObject({ notListed: 1, removed: 1, removedBySecondReport: 1, removedBy404: 0, keptUnanswered: 0, heads: 0 });
    // The second report left marks: this run read every row and reconciled the whole bucket, not a diff's vanished keys.
    expect(summary.inventory.diff.fallback).toMatch(/marked absent/);

    const found = await states();
    expect(found.has(GONE_THROTTLED)).toBe(false);
    expect(found.get(LATE_LISTED)).toBeDefined();
    expect(found.get(LATE_LISTED)?.absentFrom).toBeUndefined();
    expect([...found.keys()].sort()).toEqual([LATE_LISTED, LATE_READ, ...STEADY].sort());
  });

  test('a --prefix run, which reconciles only part of the bucket and verifies no report, keeps an object whose HeadObject is throttled without marking it (exit 2)', async () => {
    const [gone] = STEADY.slice(-1) as [string];
    await writer.s3.send(new DeleteObjectCommand({ Bucket: SOURCE, Key: gone }));
    await deliverInventory(emulator, { bucket: SOURCE, at: new Date(Date.now() + 120_000) });
    throttleHeadOf(gone);
    const run = await scan(['--prefix', 'steady-', '--json']);
    proxy.setRules([]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).summary.inventory.absence).toMatchObject({ notListed: 1, removed: 0, keptUnanswered: 1, marked: 0 });
    const found = await states();
    expect(found.get(gone)).toMatchObject({ rev: 1 });
    // No mark: a later diff might never read this state again to clear it; the next report asks S3 afresh.
    expect(found.get(gone)?.absentFrom).toBeUndefined();
  });

  test('a stale mark (left by a run that crashed before its report was verified, never cleared by the diffs since) removes nothing without a HeadObject: the object S3 still holds keeps its finding', async () => {
    const [kept] = STEADY as [string];
    const runtime = createRuntime(loadConfig({ ...process.env, ...ENV, AWS_ENDPOINT_URL: emulator }));
    const state = (await states()).get(kept)!;
    // Dated before this run's report and no verified report's date (those were dated -180 s and +60 s from their runs).
    const staleDate = new Date(Date.now() - 90_000).toISOString();
    expect(await new ObjectAbsenceMarks(runtime.clients.documents, TABLE).mark(SOURCE, kept, staleDate, state.rev)).toBe(true);
    // The next report misses it (deleted while the report was made, written again after).
    await writer.s3.send(new DeleteObjectCommand({ Bucket: SOURCE, Key: kept }));
    await deliverInventory(emulator, { bucket: SOURCE, at: new Date(Date.now() + 180_000) });
    await putObject(writer, SOURCE, kept, { mode: 'sse-s3' });
    proxy.resetStats();
    const run = await scan(['--json']);
    expect(run.stderr).toBe('');
    const absence = JSON.parse(run.stdout).summary.inventory.absence;
    // Before, the stale mark made this the "second consecutive report": removed, no HeadObject asked.
    expect(absence).toMatchObject({ removedBySecondReport: 0, keptByHead: 1 });
    expect(proxy.wireRequests().filter((r) => r.key === 's3:HeadObject' && r.path.endsWith(`/${kept}`)).length).toBeGreaterThanOrEqual(1);
    const found = await states();
    expect(found.get(kept)).toBeDefined();
    expect(found.get(kept)?.removed).toBeUndefined();
    expect(found.get(kept)?.absentFrom).toBeUndefined();
  });
});
