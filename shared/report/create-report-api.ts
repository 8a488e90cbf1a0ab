// Builds the report API over the documents client alone: the API only reads the findings table, so
// it needs neither the S3, KMS and SQS clients nor the inspectors, and its bundle carries none.
import type { AwsClients } from '../aws/clients.ts';
import type { Config } from '../config.ts';
import { PostureReader } from '../findings/posture-reader.ts';
import { FindingsTableReader } from '../findings/reader.ts';
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
  // The one findings reader (shared/findings/reader.ts), the same the CLI's report uses: no write path.
  const findingsTable = new FindingsTableReader(documents, table);
  return new ReportApi(
    {
      summary: () => findingsTable.summary(),
      reader: new FindingsReader(documents, table, () => findingsTable.recordedBuckets()),
      posture: new PostureReader(documents, table),
      region,
    },
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
