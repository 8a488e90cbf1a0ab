// `sseguard emulator deliver-inventory`: asks the running emulator to deliver a bucket's S3 Inventory
// report now (AWS delivers daily or weekly). The endpoint is the emulator's own (patch
// emulator/patches/s3_inventory.py); against AWS or LocalStack there is nothing to call.
import { CliError } from '../vocabulary.ts';

export interface InventoryDelivery {
  configId: string;
  manifestKey: string;
  dataKeys: string[];
  rows: number;
}

export interface DeliverOptions {
  bucket: string;
  /** One configuration id; default every enabled configuration of the bucket. */
  id?: string;
  /** The report's scan time (the folder date); default now. */
  at?: Date;
  /** Split the report into data files of at most this many rows. */
  rowsPerFile?: number;
}

export class DeliveryError extends Error {}

export async function deliverInventory(endpoint: string, options: DeliverOptions): Promise<InventoryDelivery[]> {
  const url = new URL('/moto-api/sseguard/deliver-inventory', endpoint);
  url.searchParams.set('bucket', options.bucket);
  if (options.id) url.searchParams.set('id', options.id);
  if (options.at) url.searchParams.set('at', options.at.toISOString());
  if (options.rowsPerFile) url.searchParams.set('rowsPerFile', String(options.rowsPerFile));
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST' });
  } catch (error) {
    throw new DeliveryError(`no emulator answers at ${endpoint} (${(error as Error).message}): start one with \`sseguard emulator\``);
  }
  const text = await response.text();
  let body: { deliveries?: InventoryDelivery[]; error?: string };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new DeliveryError(`${endpoint} is not sseguard's emulator (HTTP ${response.status} to the delivery endpoint)`);
  }
  if (!response.ok || !body.deliveries) throw new DeliveryError(body.error ?? `delivery failed with HTTP ${response.status}`);
  return body.deliveries;
}

export async function deliverInventoryCommand(endpoint: string | undefined, options: DeliverOptions & { json: boolean }): Promise<number> {
  if (!endpoint) throw new CliError('set AWS_ENDPOINT_URL (or --endpoint) to the running emulator');
  let deliveries: InventoryDelivery[];
  try {
    deliveries = await deliverInventory(endpoint, options);
  } catch (error) {
    if (error instanceof DeliveryError) throw new CliError(error.message);
    throw error;
  }
  if (options.json) console.log(JSON.stringify({ deliveries }, null, 2));
  else for (const d of deliveries) console.log(`${d.configId}: ${d.rows} rows in ${d.dataKeys.length} file(s), manifest ${d.manifestKey}`);
  return 0;
}
