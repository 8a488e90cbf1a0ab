// `sseguard init`: creates the findings and idempotency tables and the audit queue with its
// dead-letter queue on the configured endpoint; safe to run again.
import type { Service } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '#shared/findings/dynamodb-store.ts';
import { ensureQueues } from '#shared/queue/sqs-queue.ts';
import { createRuntime } from '#shared/runtime.ts';

export async function initCommand(config: Config, log: (line: string) => void = console.log): Promise<number> {
  const { clients } = createRuntime(config);
  // Each service may have an endpoint of its own (AWS_ENDPOINT_URL_DYNAMODB beside LocalStack's S3).
  const where = (service: Service) => config.endpoints[service] ?? `AWS ${config.region}`;
  const said = (outcome: 'created' | 'exists', what: string) =>
    log(outcome === 'created' ? `created ${what} on ${where('dynamodb')}` : `${what} already exists on ${where('dynamodb')}`);
  said(await ensureFindingsTable(clients.dynamodb, config.table), `table ${config.table}`);
  said(await ensureIdempotencyTable(clients.dynamodb, config.idempotencyTable), `table ${config.idempotencyTable}`);
  const { queueUrl, deadLetterQueueUrl } = await ensureQueues(clients.sqs, config);
  log(`audit queue ${queueUrl} on ${where('sqs')} (dead-letter queue ${deadLetterQueueUrl}, after ${config.maxReceiveCount} deliveries)`);
  log(`S3 on ${where('s3')}, KMS on ${where('kms')}`);
  return 0;
}
