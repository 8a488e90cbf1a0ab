// AWS SDK clients configured by the SDK's own conventions (AWS_REGION, AWS_ENDPOINT_URL, the
// credential chain). One set of clients per process: the SDK keeps connections alive across calls.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

export interface AwsClients {
  s3: S3Client;
  kms: KMSClient;
  dynamodb: DynamoDBClient;
  documents: DynamoDBDocumentClient;
  sqs: SQSClient;
}

export interface ClientOptions {
  /** Custom endpoints (LocalStack, moto, S3-compatible gateways) do not serve virtual-hosted buckets. */
  endpoint?: string | undefined;
  /** Upper bound on concurrent HTTP connections per client; matches the scan's concurrency. */
  maxSockets?: number;
}

export function createAwsClients(options: ClientOptions = {}): AwsClients {
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL;
  const requestHandler = { httpAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 50 },
    httpsAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 50 } };
  const common = { ...(endpoint ? { endpoint } : {}), requestHandler, maxAttempts: 5 };
  const s3 = new S3Client({ ...common, forcePathStyle: Boolean(endpoint) });
  const kms = new KMSClient(common);
  const dynamodb = new DynamoDBClient(common);
  const documents = DynamoDBDocumentClient.from(dynamodb, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const sqs = new SQSClient(common);
  return { s3, kms, dynamodb, documents, sqs };
}
