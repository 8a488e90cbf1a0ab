// Partial failures in a 200 answer: moto always takes every entry, so these use recorded-shape fakes at
// the SDK client boundary (PutEvents' Entries[].ErrorCode/FailedEntryCount, BatchImportFindings'
// FailedFindings, as the API references document them); the real destination code runs unchanged.
import { PutEventsCommand, type EventBridgeClient, type PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { BatchImportFindingsCommand, type BatchImportFindingsCommandOutput, type SecurityHubClient } from '@aws-sdk/client-securityhub';
import { expect, test } from 'vitest';
import { eventBridgeDestination } from '../../shared/delivery/eventbridge.ts';
import { AccountUnreachableError } from '../../shared/accounts/credentials.ts';
import { securityHubDestination } from '../../shared/delivery/securityhub.ts';
import { outboxItemsForHistory } from '../../shared/findings/outbox.ts';

const FAST = { attempts: 4, baseMs: 1, capMs: 2 };
const context = { keyExposure: async () => ({ objects: 0, bytes: 0 }) };
const items = Array.from({ length: 23 }, (_, i) =>
  outboxItemsForHistory(
    { bucket: 'b', key: `k${i}`, size: 1, entry: { auditedAt: '2026-12-04T00:00:00.000Z', rev: 1, verdict: 'noncompliant', reasons: [] } },
    `HIST#${i}`,
    false,
  )[0]!,
);

test('recorded-shape fake (PutEvents partial failure): refused entries are sent again alone, each event once; calls hold ≤ 10 entries', async () => {
  const sent: string[] = [];
  let calls = 0;
  const client = {
    send: async (command: PutEventsCommand): Promise<PutEventsCommandOutput> => {
      calls += 1;
      const entries = command.input.Entries ?? [];
      expect(entries.length).toBeLessThanOrEqual(10);
      // The first call of each round refuses every third entry, as a throttled partition would.
      const answers = entries.map((entry, i) => {
        const id = (JSON.parse(entry.Detail!) as { eventId: string }).eventId;
        if (calls <= 3 && i % 3 === 0) return { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' };
        sent.push(id);
        return { EventId: `e-${id.slice(0, 8)}` };
      });
      return { $metadata: { httpStatusCode: 200 }, FailedEntryCount: answers.filter((a) => 'ErrorCode' in a).length, Entries: answers };
    },
  } as unknown as EventBridgeClient;
  const delivered = await eventBridgeDestination(client, 'bus', FAST).send(items, context);
  expect(delivered.size).toBe(23);
  expect(sent.sort()).toEqual(items.map((i) => i.id).sort());
});

test('recorded-shape fake (BatchImportFindings FailedFindings): failed findings are imported again; one that never goes through is left out', async () => {
  let calls = 0;
  const imported: string[] = [];
  const client = {
    send: async (command: BatchImportFindingsCommand): Promise<BatchImportFindingsCommandOutput> => {
      calls += 1;
      const findings = command.input.Findings ?? [];
      const failed = findings.filter((f, i) => f.Id === 'sseguard/b/k0' || (calls === 1 && i % 4 === 0));
      imported.push(...findings.filter((f) => !failed.includes(f)).map((f) => f.Id!));
      return {
        $metadata: { httpStatusCode: 200 },
        FailedCount: failed.length,
        SuccessCount: findings.length - failed.length,
        FailedFindings: failed.map((f) => ({ Id: f.Id!, ErrorCode: 'InternalException', ErrorMessage: 'try again' })),
      };
    },
  } as unknown as SecurityHubClient;
  const delivered = await securityHubDestination(client, { region: 'us-east-1', callerAccount: async () => '123456789012' }, FAST).send(items, context);
  expect(delivered.size).toBe(22);
  expect(delivered.has(items[0]!.id)).toBe(false);
  expect(new Set(imported).size).toBe(imported.length);
  expect(imported).toHaveLength(22);
});

test('recorded-shape fake (BatchImportFindings account mismatch, as AWS answers under the default product): member findings go through each member\'s client per account and Region; a member whose role cannot be assumed waits, the others are taken', async () => {
  const CENTRAL = '123456789012';
  const change = (i: number, account?: string, region?: string) =>
    outboxItemsForHistory(
      { bucket: 'org', key: `m${i}`, size: 1, entry: { auditedAt: '2026-12-04T00:00:00.000Z', rev: 1, verdict: 'noncompliant', reasons: [] }, ...(account ? { account } : {}), ...(region ? { region } : {}) },
      `HIST#m${i}`,
      false,
    )[0]!;
  const orgItems = [change(0), change(1), change(2, '111111111111', 'us-east-1'), change(3, '111111111111', 'us-east-1'), change(4, '222222222222', 'eu-west-1'), change(5, '333333333333', 'us-east-1')];
  const calls: { caller: string; region: string; ids: string[] }[] = [];
  // Security Hub under the default product takes a finding only from its own account and Region:
  // any other comes back in FailedFindings (a 200 answer), as AWS answers an account mismatch.
  const hubAs = (caller: string, region: string) =>
    ({
      send: async (command: BatchImportFindingsCommand): Promise<BatchImportFindingsCommandOutput> => {
        const findings = command.input.Findings ?? [];
        calls.push({ caller, region, ids: findings.map((f) => f.Id!) });
        const refused = findings.filter((f) => f.AwsAccountId !== caller || f.ProductArn !== `arn:aws:securityhub:${region}:${caller}:product/${caller}/default`);
        return {
          $metadata: { httpStatusCode: 200 },
          SuccessCount: findings.length - refused.length,
          FailedCount: refused.length,
          FailedFindings: refused.map((f) => ({ Id: f.Id!, ErrorCode: 'AccessDeniedException', ErrorMessage: `User: arn:aws:sts::${caller}:assumed-role/x is not authorized to import findings for account ${f.AwsAccountId}` })),
        };
      },
    }) as unknown as SecurityHubClient;
  const unreachable = {
    send: async () => {
      throw new AccountUnreachableError('333333333333', 'cannot assume arn:aws:iam::333333333333:role/sseguard-audit: AccessDenied');
    },
  } as unknown as SecurityHubClient;
  const destination = securityHubDestination(
    hubAs(CENTRAL, 'us-east-1'),
    {
      region: 'us-east-1',
      callerAccount: async () => CENTRAL,
      clientFor: (account, region, own) => (own ? hubAs(CENTRAL, region) : account === '333333333333' ? unreachable : hubAs(account, region)),
    },
    FAST,
  );
  const delivered = await destination.send(orgItems, context);
  expect([...delivered].sort()).toEqual(orgItems.slice(0, 5).map((item) => item.id).sort());
  // One call per account and Region, each with that account's findings only; nothing refused.
  expect(calls.map((c) => [c.caller, c.region, c.ids.length]).sort()).toEqual([
    [CENTRAL, 'us-east-1', 2],
    ['111111111111', 'us-east-1', 2],
    ['222222222222', 'eu-west-1', 1],
  ].sort());
});
