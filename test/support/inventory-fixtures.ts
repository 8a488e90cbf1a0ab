// An S3 Inventory report on the emulator, as AWS would leave one: the bucket's inventory configured
// the way `sseguard inventory setup` configures it, then a report delivered now (the emulator's
// delivery endpoint; AWS delivers daily or weekly).
import { PutBucketInventoryConfigurationCommand } from '@aws-sdk/client-s3';
import { deliverInventory, type InventoryDelivery } from '../../cli/commands/deliver-inventory.ts';
import type { AwsClients } from '../../shared/aws/clients.ts';
import { inventoryConfiguration } from '../../shared/inventory/setup.ts';

export interface SeededReport {
  bucket: string;
  destinationBucket: string;
  /** Where the reports go in the destination bucket. */
  prefix: string;
  /** The report's scan time (its folder date); default now. */
  at?: Date;
  /** Data files of at most this many rows; default one file. */
  rowsPerFile?: number;
}

/** Configures `bucket`'s inventory into `destinationBucket` and delivers its report: the delivery (manifest, data files). */
export async function seedInventoryReport(clients: AwsClients, emulator: string, report: SeededReport): Promise<InventoryDelivery> {
  const { bucket, destinationBucket, prefix } = report;
  await clients.s3.send(
    new PutBucketInventoryConfigurationCommand({
      Bucket: bucket,
      Id: 'sseguard',
      InventoryConfiguration: inventoryConfiguration({ bucket, destinationBucket, prefix }),
    }),
  );
  const [delivery] = await deliverInventory(emulator, { bucket, ...(report.at ? { at: report.at } : {}), ...(report.rowsPerFile ? { rowsPerFile: report.rowsPerFile } : {}) });
  if (!delivery) throw new Error(`the emulator delivered no inventory report for ${bucket}`);
  return delivery;
}
