// A scan from an S3 Inventory report stopped part-way (Ctrl-C): it takes no more rows, says it was
// interrupted, and never removes the recorded objects it did not reach as if the report had not
// listed them.
import { randomBytes } from 'node:crypto';
import { PutBucketInventoryConfigurationCommand } from '@aws-sdk/client-s3';
import { expect, test } from 'vitest';
import { deliverInventory } from '../../cli/commands/deliver-inventory.ts';
import { scanFromInventory } from '../../shared/audit/inventory-scan-run.ts';
import { scanBucket } from '../../shared/audit/scan.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { ObjectAbsenceMarks } from '../../shared/findings/absence-marks.ts';
import { inventoryConfiguration } from '../../shared/inventory/setup.ts';
import { s3InventorySource } from '../../shared/inventory/source.ts';
import { createRuntime, scanDependencies } from '../../shared/runtime.ts';
import { createBucket, putObject } from '../support/aws-fixtures.ts';

const TABLE = 'interrupted-inventory-findings';
const OBJECTS = 8;

test('an inventory scan stopped after its first object: interrupted, the rest not removed from the findings', async () => {
  const clients = createAwsClients();
  const runtime = createRuntime(loadConfig({ ...process.env, SSEGUARD_TABLE: TABLE }));
  await ensureFindingsTable(runtime.clients.dynamodb, TABLE);
  const source = `src-${randomBytes(4).toString('hex')}`;
  const dest = `inv-${randomBytes(4).toString('hex')}`;
  await createBucket(clients, source);
  await createBucket(clients, dest);
  for (let i = 0; i < OBJECTS; i++) await putObject(clients, source, `k-${i}`, { mode: 'sse-s3' });
  await clients.s3.send(
    new PutBucketInventoryConfigurationCommand({ Bucket: source, Id: 'sseguard', InventoryConfiguration: inventoryConfiguration({ bucket: source, destinationBucket: dest }) }),
  );
  await deliverInventory(process.env.AWS_ENDPOINT_URL!, { bucket: source });
  const deps = await scanDependencies(runtime);
  await scanBucket(deps, { bucket: source, concurrency: 4 });

  const stop = new AbortController();
  const result = await scanFromInventory(
    { ...deps, inventory: s3InventorySource(runtime.clients.s3, { bucket: dest, prefix: '' }), absence: new ObjectAbsenceMarks(runtime.clients.documents, runtime.config.table) },
    { bucket: source, concurrency: 1, stop: stop.signal, onFinding: () => stop.abort() },
  );
  expect(result.interrupted).toEqual({ listingFinished: false });
  expect(result.objects).toBe(1);
  expect(result.inventory.removed).toBe(0);
  const recorded: string[] = [];
  for await (const page of runtime.store.findings({ bucket: source })) recorded.push(...page.map((f) => f.key));
  expect(recorded).toHaveLength(OBJECTS);
}, 120_000);
