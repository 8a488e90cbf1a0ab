// `sseguard init`: creates the findings and idempotency tables and the audit queue with its
// dead-letter queue on the configured endpoint; safe to run again.
import type { Config } from '#shared/config.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '#shared/findings/dynamodb-store.ts';
import { ensureQueues } from '#shared/queue/sqs-queue.ts';
import { createRuntime } from '#shared/runtime.ts';

export async function initCommand(config: Config, log: (line: string) => void = console.log): Promise<number> {
  const { clients } = createRuntime(config);
  const where = config.endpoint ?? `AWS ${config.region}`;
  const said = (outcome: 'created' | 'exists', what: string) =>
    log(outcome === 'created' ? `created ${what} on ${where}` : `${what} already exists on ${where}`);
  said(await ensureFindingsTable(clients.dynamodb, config.table), `table ${config.table}`);
  said(await ensureIdempotencyTable(clients.dynamodb, config.idempotencyTable), `table ${config.idempotencyTable}`);
  const { queueUrl, deadLetterQueueUrl } = await ensureQueues(clients.sqs, config);
  log(`audit queue ${queueUrl} (dead-letter queue ${deadLetterQueueUrl}, after ${config.maxReceiveCount} deliveries)`);
  return 0;
}
