// A scan of one bucket (no --accounts) and the worker's own-account events stamp each finding with
// the caller's account (STS GetCallerIdentity on the emulator, SSEGUARD_ACCOUNT_ID when set) and
// the bucket's Region, as account scans do: `report --account/--region` then find them too.
import { PassThrough } from 'node:stream';
import { CreateBucketCommand, PutBucketInventoryConfigurationCommand, PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import { deliverInventory } from '../../cli/commands/deliver-inventory.ts';
import { inventoryConfiguration } from '../../shared/inventory/setup.ts';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { beforeAll, expect, test } from 'vitest';
import { handler } from '../../functions/audit-worker.ts';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetMemberAccounts } from '../../functions/commons/member-accounts.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { reportCommand } from '../../cli/commands/report.ts';
import { scanCommand } from '../../cli/commands/scan.ts';
import { createAccountClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { putObject } from '../support/aws-fixtures.ts';
import { drainQueue } from '../support/sqs-event-source.ts';

Object.assign(process.env, { SSEGUARD_TABLE: 'origin-findings', SSEGUARD_QUEUE: 'origin-audit' });

const HOME = process.env.AWS_REGION ?? 'us-east-1';
const ELSEWHERE = HOME === 'eu-west-1' ? 'eu-central-1' : 'eu-west-1';
let caller: string;

interface Printed {
  findings: { key: string; account?: string; region?: string }[];
}

async function printedBy(command: (out: PassThrough) => Promise<number>): Promise<{ code: number; json: Printed }> {
  const out = new PassThrough();
  let printed = '';
  out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const code = await command(out);
  return { code, json: JSON.parse(printed) as Printed };
}

const scanJson = (bucket: string, config = loadConfig()) =>
  printedBy((out) => scanCommand(config, { bucket, concurrency: 4, json: true, record: true, remediation: 'report' }, out));
const reportJson = (filter: { account?: string; region?: string; bucket?: string }) => printedBy((out) => reportCommand(loadConfig(), { format: 'json', ...filter }, out));

beforeAll(async () => {
  const runtime = createRuntime(loadConfig());
  await ensureFindingsTable(runtime.clients.dynamodb, runtime.config.table);
  caller = (await new STSClient({ region: HOME }).send(new GetCallerIdentityCommand({}))).Account!;
  const away = createAccountClients({ region: ELSEWHERE });
  await away.s3.send(new CreateBucketCommand({ Bucket: 'origin-away', CreateBucketConfiguration: { LocationConstraint: ELSEWHERE as 'eu-west-1' } }));
  await putObject(runtime.clients, 'origin-away', 'a.txt', { mode: 'sse-s3' });
  await putObject(runtime.clients, 'origin-away', 'b.txt', { mode: 'sse-s3' });
  await runtime.clients.s3.send(new CreateBucketCommand({ Bucket: 'origin-home' }));
  await putObject(runtime.clients, 'origin-home', 'c.txt', { mode: 'sse-s3' });
});

test("scan --bucket stamps every finding with the caller's account and the bucket's Region (not AWS_REGION); report --account and --region find them", async () => {
  const { code, json } = await scanJson('origin-away');
  expect(code).toBe(0);
  // Findings stream in completion order.
  expect(json.findings.map((f) => [f.key, f.account, f.region]).sort()).toEqual([
    ['a.txt', caller, ELSEWHERE],
    ['b.txt', caller, ELSEWHERE],
  ]);
  const byAccount = await reportJson({ account: caller, bucket: 'origin-away' });
  expect(byAccount.json.findings.map((f) => [f.key, f.account, f.region]).sort()).toEqual([
    ['a.txt', caller, ELSEWHERE],
    ['b.txt', caller, ELSEWHERE],
  ]);
  const inRegion = await reportJson({ region: ELSEWHERE });
  expect(inRegion.json.findings.map((f) => f.key).sort()).toEqual(['a.txt', 'b.txt']);
});

test('SSEGUARD_ACCOUNT_ID names the account instead of STS; another account finds none of them', async () => {
  const config = loadConfig();
  const { json } = await scanJson('origin-home', { ...config, batch: { ...config.batch, accountId: '111122223333' } });
  expect(json.findings.map((f) => [f.key, f.account, f.region])).toEqual([['c.txt', '111122223333', HOME]]);
  const other = await reportJson({ account: '111122223333' });
  expect(other.json.findings.map((f) => f.key)).toEqual(['c.txt']);
  const none = await reportJson({ account: '999999999999' });
  expect(none.json.findings).toEqual([]);
});

test('scan --inventory (rows decided from the S3 Inventory report) stamps them the same way', async () => {
  const { clients } = createRuntime(loadConfig());
  await clients.s3.send(new CreateBucketCommand({ Bucket: 'origin-inventory' }));
  await clients.s3.send(new CreateBucketCommand({ Bucket: 'origin-inventory-reports' }));
  await putObject(clients, 'origin-inventory', 'i.txt', { mode: 'sse-s3' });
  const configuration = inventoryConfiguration({ bucket: 'origin-inventory', destinationBucket: 'origin-inventory-reports' });
  await clients.s3.send(new PutBucketInventoryConfigurationCommand({ Bucket: 'origin-inventory', Id: configuration.Id!, InventoryConfiguration: configuration }));
  await deliverInventory(process.env.AWS_ENDPOINT_URL!, { bucket: 'origin-inventory' });
  const { json } = await printedBy((out) =>
    scanCommand(loadConfig(), { bucket: 'origin-inventory', inventory: 's3://origin-inventory-reports', concurrency: 4, json: true, record: true, remediation: 'report' }, out),
  );
  expect(json.findings.map((f) => [f.key, f.account, f.region])).toEqual([['i.txt', caller, HOME]]);
});

test("the worker stamps the central account's own bucket notifications with its account and the record's Region", async () => {
  resetHandlerRuntime();
  resetMemberAccounts();
  const { config, clients } = createRuntime(loadConfig());
  await ensureIdempotencyTable(clients.dynamodb, config.idempotencyTable);
  const { queueUrl } = await ensureQueues(clients.sqs, config);
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  await clients.s3.send(new CreateBucketCommand({ Bucket: 'origin-events' }));
  await clients.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'origin-events',
      NotificationConfiguration: { QueueConfigurations: [{ QueueArn: Attributes!.QueueArn!, Events: ['s3:ObjectCreated:*'] }] },
    }),
  );
  await putObject(clients, 'origin-events', 'event.txt', { mode: 'sse-s3' });
  expect(await drainQueue(clients.sqs, queueUrl, handler, localLambdaContext('audit-worker'))).toEqual([]);
  const { json } = await reportJson({ account: caller, region: HOME, bucket: 'origin-events' });
  expect(json.findings.map((f) => [f.key, f.account, f.region])).toEqual([['event.txt', caller, HOME]]);
});
