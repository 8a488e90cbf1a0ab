// `sseguard init`: creates the findings and idempotency tables and the audit queue with its
// dead-letter queue on the configured endpoint; safe to run again.
import type { Service } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '#shared/findings/dynamodb-store.ts';
import { ensureQueues } from '#shared/queue/sqs-queue.ts';
import { createRuntime } from '#shared/runtime.ts';

export async function initCommand(config: Config, log: (line: string) => void = console.log, options: { json?: boolean } = {}): Promise<number> {
  const { clients } = createRuntime(config);
  // Each service may have an endpoint of its own (AWS_ENDPOINT_URL_DYNAMODB beside LocalStack's S3).
  const where = (service: Service) => config.endpoints[service] ?? `AWS ${config.region}`;
  const findings = await ensureFindingsTable(clients.dynamodb, config.table);
  const idempotency = await ensureIdempotencyTable(clients.dynamodb, config.idempotencyTable);
  const { queueUrl, deadLetterQueueUrl } = await ensureQueues(clients.sqs, config);
  if (options.json) {
    log(
      JSON.stringify({
        tables: [
          { name: config.table, outcome: findings, endpoint: where('dynamodb') },
          { name: config.idempotencyTable, outcome: idempotency, endpoint: where('dynamodb') },
        ],
        queue: { url: queueUrl, deadLetterQueueUrl, maxReceiveCount: config.maxReceiveCount, endpoint: where('sqs') },
        endpoints: { s3: where('s3'), kms: where('kms') },
      }),
    );
    return 0;
  }
  const said = (outcome: 'created' | 'exists' | 'migrated', what: string) =>
    log(
      outcome === 'created'
        ? `created ${what} on ${where('dynamodb')}`
        : outcome === 'migrated'
          ? `${what} on ${where('dynamodb')}: its indexes made again with keys only (they projected every attribute)`
          : `${what} already exists on ${where('dynamodb')}`,
    );
  said(findings, `table ${config.table}`);
  said(idempotency, `table ${config.idempotencyTable}`);
  log(`audit queue ${queueUrl} on ${where('sqs')} (dead-letter queue ${deadLetterQueueUrl}, after ${config.maxReceiveCount} deliveries)`);
  log(`S3 on ${where('s3')}, KMS on ${where('kms')}`);
  return 0;
}
