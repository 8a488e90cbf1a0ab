// GET /export.ocsf-parquet: the findings of /export.ocsf as one Parquet file (ocsf-parquet.ts), with the
// same filters. Parquet's footer comes last, so a file is built whole before it is sent: each response
// holds findings up to a size budget and links to the rest (Link: rel="next", like the other exports).
// Lambda sends it base64-encoded inside API Gateway's 6 MB: the budget is three quarters of the
// transport's, counted as the events' JSON size (Parquet stores the same values, compressed, with
// less than JSON's field names per row).
import type { HandleOptions, Route } from './router.ts';
import type { Position } from '../findings/findings-query.ts';
import type { FindingsQuery, FindingsReader } from '../findings/findings-query.ts';
import { findingOcsf, type OcsfContext } from './ocsf.ts';
import { ocsfParquet, type OcsfEvent } from './ocsf-parquet.ts';
import { exportParameters, type ExportParameters } from './schemas.ts';

/** `serve` streams other exports whole; a Parquet file is built in memory, so it is cut here too. */
const UNBUFFERED_BUDGET = 64 * 1024 * 1024;
export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';

interface ParquetExportDependencies {
  reader: Pick<FindingsReader, 'each'>;
  region: string;
  accountId(options: HandleOptions): string | undefined;
  query(params: ExportParameters): FindingsQuery;
  /** Filters as query-string values, for the next page's link. */
  linkParams(params: ExportParameters): Record<string, string>;
  cursors: { decode(scope: Record<string, string | undefined>, cursor: string | undefined): Position | undefined; encode(scope: Record<string, string | undefined>, position: Position): string };
  scope(params: ExportParameters): Record<string, string | undefined>;
}

export function parquetExportRoute(deps: ParquetExportDependencies): Route {
  return {
    path: '/export.ocsf-parquet',
    authenticated: true,
    parameters: exportParameters,
    summary:
      'Every matching finding as an OCSF 1.3.0 Compliance Finding in one Parquet file (nested OCSF columns, for a Security Lake custom source). ' +
      'A file holds up to a size budget (about 3.7 MB through Lambda); the rest is linked (Link: rel="next").',
    contentType: PARQUET_CONTENT_TYPE,
    handle: async ({ query, options }) => {
      const params = query as ExportParameters;
      const scope = { route: 'export.ocsf-parquet', ...deps.scope(params) };
      const after = deps.cursors.decode(scope, params.cursor);
      const accountId = deps.accountId(options);
      const context: OcsfContext = { region: deps.region, ...(accountId ? { accountId } : {}) };
      const budget = options.maxBodyBytes ? (options.maxBodyBytes * 3) / 4 : UNBUFFERED_BUDGET;
      const events: OcsfEvent[] = [];
      let bytes = 0;
      let last: Position | undefined;
      let nextCursor: string | undefined;
      for await (const finding of deps.reader.each(deps.query(params), after)) {
        if (bytes >= budget && last) {
          nextCursor = deps.cursors.encode(scope, last);
          break;
        }
        const event = findingOcsf(finding, context);
        bytes += Buffer.byteLength(JSON.stringify(event));
        events.push(event);
        last = { bucket: finding.bucket, key: finding.key };
      }
      return {
        status: 200,
        headers: {
          'content-type': PARQUET_CONTENT_TYPE,
          'content-disposition': 'attachment; filename="sseguard-findings.ocsf.parquet"',
          ...(nextCursor ? { link: `</export.ocsf-parquet?${new URLSearchParams({ ...deps.linkParams(params), cursor: nextCursor })}>; rel="next"` } : {}),
        },
        body: ocsfParquet(events),
      };
    },
  };
}
