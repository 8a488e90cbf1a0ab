// Builds the report API over a runtime (the same composition root the CLI and handlers use).
import { PostureStore } from '../findings/posture-store.ts';
import type { Runtime } from '../runtime.ts';
import type { ReportApiConfig } from './api-config.ts';
import { ReportApi, type ErrorLogger } from './api.ts';
import { FindingsReader } from './findings-query.ts';

export function createReportApi(runtime: Runtime, config: ReportApiConfig, logError?: ErrorLogger): ReportApi {
  const summary = () => runtime.store.summary();
  // From the store's summary, which knows how its counters are laid out.
  const recordedBuckets = async () =>
    Object.entries((await summary()).buckets)
      .filter(([, counts]) => counts.objects > 0)
      .map(([bucket]) => bucket);
  return new ReportApi(
    {
      summary,
      reader: new FindingsReader(runtime.clients.documents, runtime.config.table, recordedBuckets),
      posture: new PostureStore(runtime.clients.documents, runtime.config.table),
      region: runtime.config.region,
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
