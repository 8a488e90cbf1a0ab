// Builds the report API over the documents client alone: the API only reads the findings table, so
// it needs neither the S3, KMS and SQS clients nor the inspectors, and its bundle carries none.
import type { AwsClients } from '../aws/clients.ts';
import type { Config } from '../config.ts';
import { PostureReader } from '../findings/posture-reader.ts';
import { FindingsTableReader } from '../findings/reader.ts';
import { readFeed } from '../findings/change-feed.ts';
import { counterExposure } from '../delivery/outbox-delivery.ts';
import { readDeliveries } from '../findings/outbox-status-reader.ts';
import type { ReportApiConfig } from '../report/api-config.ts';
import { ReportApi } from '../report/api.ts';
import { ApiError, type ErrorLogger } from '../report/router.ts';
import { FindingsReader } from '../findings/findings-query.ts';
import { gatherEvidenceInputs } from '../evidence/gather.ts';
import { buildEvidence } from '../evidence/pack.ts';

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
      deliveries: () => readDeliveries(documents, table),
      region,
      changes: { page: (after, limit) => readFeed(documents, table, after, limit), keyExposure: counterExposure(documents, table) },
      // Exemptions live in the policy file, which the API does not read: the pack says so in its gaps.
      evidence: async ({ asOf, window, bucket }) => {
        const generatedAt = new Date();
        const at = asOf ? new Date(asOf) : generatedAt;
        if (at.getTime() > generatedAt.getTime()) throw new ApiError(400, 'bad-request', 'asOf: is in the future', [{ parameter: 'asOf', message: 'is in the future' }]);
        const inputs = await gatherEvidenceInputs({ documents, tableName: table, exemptions: [] });
        const pack = buildEvidence(inputs, { asOf: at, reconstructed: asOf !== undefined, windowDays: window ? Number(window.slice(0, -1)) : 90, scope: bucket ? { buckets: [bucket] } : {}, generatedAt });
        pack.gaps.push('served by the report API: unsigned, no exemptions listed (the policy file is not read here), buckets never recorded are not known; `sseguard evidence` writes the signed pack');
        return pack;
      },
    },
    config,
    logError,
  );
}

/** Reads a response body whole: for transports that cannot stream (Lambda behind API Gateway). */
export async function bodyText(body: string | Uint8Array | AsyncIterable<string>): Promise<string> {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  const chunks: string[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return chunks.join('');
}
