// DynamoDB's "Requested resource not found" on the findings (or idempotency) table, said as what
// to do about it. Used by every command's error line (cli/main.ts) and by `invoke`'s failed messages.
import type { Config } from '#shared/config.ts';

export function missingTableMessage(error: unknown, config: Pick<Config, 'table' | 'region' | 'endpoints'>): string | undefined {
  for (let cause: unknown = error; cause; cause = (cause as { cause?: unknown }).cause) {
    const e = cause as { name?: string; message?: string };
    // KMS and S3 name their missing things otherwise (NotFoundException, NoSuchBucket); DynamoDB says this.
    if (e?.name !== 'ResourceNotFoundException' || !/requested resource not found/i.test(e.message ?? '')) continue;
    const where = config.endpoints.dynamodb ? `${config.region} on ${config.endpoints.dynamodb}` : config.region;
    return `table ${config.table} does not exist in ${where}: run \`sseguard init\` (it creates the findings and idempotency tables)`;
  }
  return undefined;
}
