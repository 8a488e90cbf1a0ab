// X-Ray for the SDK: every client gets Powertools' tracing middleware once, where it is made, so
// that each S3, KMS, DynamoDB and SQS call is a subsegment of the invocation. shared/ builds the
// clients and stays free of Powertools. A document client shares its DynamoDB client's middleware
// stack: tracing the DynamoDB client traces both. Outside Lambda (tests, the CLI) Tracer is off and
// returns the client unchanged.
import type { AwsClients } from '#shared/aws/clients.ts';
import { tracer } from '#powertools';

type Client = Parameters<typeof tracer.captureAWSv3Client>[0];

export function traced<T extends Client>(client: T): T {
  return tracer.captureAWSv3Client(client);
}

export function traceClients(clients: AwsClients): AwsClients {
  for (const client of [clients.s3, clients.kms, clients.dynamodb, clients.sqs]) traced(client);
  return clients;
}
