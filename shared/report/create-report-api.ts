// Builds the report API over the documents client alone: the API only reads the findings table, so
// it needs neither the S3, KMS and SQS clients nor the inspectors, and its bundle carries none.
import type { AwsClients } from '../aws/clients.ts';
import type { Config } from '../config.ts';
import { DynamoFindingsStore } from '../findings/dynamodb-store.ts';
import { PostureStore } from '../findings/posture-store.ts';
import type { ReportApiConfig } from './api-config.ts';
import { ReportApi } from './api.ts';
import type { ErrorLogger } from './router.ts';
import { FindingsReader } from './findings-query.ts';

/** What the API reads from: a Runtime has it, and so has the report API Lambda's smaller set. */
export interface ReportTable {
  clients: Pick<AwsClients, 'documents'>;
  /** `region` is written into ASFF findings. */
  config: Pick<Config, 'table' | 'region'>;
}

export function createReportApi(source: ReportTable, config: ReportApiConfig, logError?: ErrorLogger): ReportApi {
  const { documents } = source.clients;
  const { table, region } = source.config;
  // The summary reads the counters only; DynamoFindingsStore is also the write path, which the
  // findings reader split (one reader module for the CLI and the API) takes out of this bundle.
  const counters = new DynamoFindingsStore(documents, table);
  const summary = () => counters.summary();
  // From the store's summary, which knows how its counters are laid out.
  const recordedBuckets = async () =>
    Object.entries((await summary()).buckets)
      .filter(([, counts]) => counts.objects > 0)
      .map(([bucket]) => bucket);
  return new ReportApi(
    { summary, reader: new FindingsReader(documents, table, recordedBuckets), posture: new PostureStore(documents, table), region },
    config,
    logError,
  );
}

/** Reads a response body whole: for transports that cannot stream (Lambda behind API Gateway). */
export async function bodyText(body: string | AsyncIterable<string>): Promise<string> {
  if (typeof body === 'string') return body;
  const chunks: string[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return chunks.join('');
}
