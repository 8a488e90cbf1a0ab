// The report API's routes: what each path answers, from the findings reader, the counters and the
// postures. Matching, authentication, CORS, query validation and the error shape are the router's
// (router.ts); the Lambda handler (functions/report-api.ts) and `sseguard serve` are thin adapters
// that turn their requests into an ApiRequest and write back the ApiResponse.
import type { PostureReader } from '../findings/posture-reader.ts';
import type { Summary } from '../findings/store.ts';
import { CursorCodec, CursorError } from './cursor.ts';
import type { ReportApiConfig } from './api-config.ts';
import { dashboardHtml } from './dashboard-page.ts';
import { deliveriesRoute } from './deliveries.ts';
import type { DeliveriesView } from '../findings/outbox-status-reader.ts';
import { EXPORT_FORMATS, exportFrame, exportRow, findingJson, type ExportFormat } from './export-formats.ts';
import type { FindingsQuery, FindingsReader, Position } from '../findings/findings-query.ts';
import { eventsRoute, type ChangeFeed } from './events-route.ts';
import { parquetExportRoute } from './parquet-export.ts';
import { openApiDocument } from './openapi.ts';
import { accountsView } from './account-views.ts';
import { REMEDIATIONS_PK, keyAliases, keysView, remediationView, summaryView, type RemediationView } from './overview.ts';
import { ApiError, Router, json, type ApiRequest, type ApiResponse, type ErrorLogger, type HandleOptions, type Route } from './router.ts';
import {
  accountsSchema,
  bucketsParameters,
  bucketsSchema,
  evidenceParameters,
  exportParameters,
  findingsPageSchema,
  findingsParameters,
  keysSchema,
  MAX_KEY_BYTES,
  noParameters,
  objectSchema,
  remediationsPageSchema,
  remediationsParameters,
  summarySchema,
  type BucketsParameters,
  type EvidenceParameters,
  type ExportParameters,
  type FindingsParameters,
  type RemediationsParameters,
} from './schemas.ts';

export interface ReportSources {
  summary(): Promise<Summary>;
  /** The evidence pack's document as of a time (unsigned: `sseguard evidence` signs). */
  evidence?(parameters: EvidenceParameters): Promise<unknown>;
  reader: FindingsReader;
  /** What was sent to EventBridge and Security Hub, and what waits (GET /deliveries). */
  deliveries?(): Promise<DeliveriesView>;
  /** Bucket postures (default encryption, TLS, SSE-C blocking), read-only. */
  posture: Pick<PostureReader, 'summary' | 'list'>;
  region: string;
  /** The change feed behind GET /events (absent: no such route). */
  changes?: ChangeFeed;
}

/** The object's bucket and key from /objects/{bucket}/{key+}: the key is everything after the bucket, decoded. */
function objectPath(rawPath: string): Record<string, string> | undefined {
  const match = /^\/objects\/([^/]+)\/(.+)$/s.exec(rawPath);
  if (!match) return undefined;
  let bucket: string;
  let key: string;
  try {
    bucket = decodeURIComponent(match[1]!);
    key = decodeURIComponent(match[2]!);
  } catch {
    throw new ApiError(400, 'bad-path', 'the object key is not valid percent-encoding: encode it with encodeURIComponent');
  }
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new ApiError(400, 'bad-path', `the object key is longer than S3 allows (${MAX_KEY_BYTES} bytes in UTF-8)`);
  }
  return { bucket, key };
}

export class ReportApi {
  readonly routes: Route[];
  private readonly cursors: CursorCodec;
  private readonly router: Router;

  constructor(
    private readonly sources: ReportSources,
    private readonly config: ReportApiConfig,
    logError?: ErrorLogger,
  ) {
    this.cursors = new CursorCodec(config.cursorSecret);
    this.routes = this.buildRoutes();
    this.router = new Router(this.routes, config, logError);
  }

  get authenticated(): boolean {
    return this.router.authenticated;
  }

  handle(request: ApiRequest, options: HandleOptions = {}): Promise<ApiResponse> {
    return this.router.handle(request, options);
  }

  private decodeCursor(scope: Record<string, string | number | undefined>, cursor: string | undefined): Position | undefined {
    if (!cursor) return undefined;
    try {
      return this.cursors.decode(scope, cursor);
    } catch (error) {
      const message = error instanceof CursorError ? error.message : 'cursor is malformed: pass back the nextCursor of the previous page unchanged';
      throw new ApiError(400, 'bad-request', `cursor: ${message}`, [{ parameter: 'cursor', message }]);
    }
  }

  private buildRoutes(): Route[] {
    const { sources } = this;
    return [
      {
        path: '/',
        authenticated: false,
        parameters: noParameters,
        summary: 'The dashboard: one HTML page that reads this API with the token given in the page (it holds no data itself).',
        contentType: 'text/html',
        handle: async () => ({
          status: 200,
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            'referrer-policy': 'no-referrer',
          },
          body: dashboardHtml(),
        }),
      },
      {
        path: '/health',
        authenticated: false,
        parameters: noParameters,
        summary: 'Liveness: answers without authentication and without touching the table.',
        handle: async () => json(200, { status: 'ok' }),
      },
      {
        path: '/openapi.json',
        authenticated: true,
        parameters: noParameters,
        summary: 'This description of the API (OpenAPI 3.1).',
        handle: async () => json(200, openApiDocument(this.routes)),
      },
      {
        path: '/summary',
        authenticated: true,
        parameters: noParameters,
        summary: 'Totals and compliance overall, per bucket, per mode and per verdict; at-risk keys; last sweep, coverage, trend; recent remediations. From counters, never a table scan.',
        response: summarySchema,
        handle: async () => json(200, await summaryView(await sources.summary(), sources.reader, await sources.posture.summary())),
      },
      {
        path: '/evidence',
        authenticated: true,
        parameters: evidenceParameters,
        summary:
          "The evidence pack's document (population, coverage, exceptions, keys, changes, control mapping, history-chain check) as of `asOf`, reconstructed from the history. Unsigned: `sseguard evidence` writes the signed pack. Reads the whole table.",
        handle: async ({ query }) => {
          if (!sources.evidence) throw new ApiError(404, 'not-found', 'this deployment does not serve evidence packs');
          const pack = await sources.evidence(query as EvidenceParameters);
          return json(200, pack, { 'content-disposition': 'inline; filename="sseguard-evidence.json"', 'cache-control': 'no-store' });
        },
      },
      deliveriesRoute(async () => (sources.deliveries ? sources.deliveries() : { pending: 0, destinations: [] })),
      {
        path: '/buckets',
        authenticated: true,
        parameters: bucketsParameters,
        summary: 'Bucket postures in name order: default encryption and its key, SSE-C blocking, TLS-only and unencrypted-put denies, with verdict and reasons.',
        response: bucketsSchema,
        handle: async ({ query }) => {
          const buckets = [];
          for await (const page of sources.posture.list(query as BucketsParameters)) buckets.push(...page);
          return json(200, { buckets });
        },
      },
      {
        path: '/findings',
        authenticated: true,
        parameters: findingsParameters,
        summary: 'Object states, filtered, ordered by bucket then key, in pages joined by an opaque cursor.',
        response: findingsPageSchema,
        handle: async ({ query }) => {
          const params = query as FindingsParameters;
          const scope = { route: 'findings', ...filterScope(params), limit: params.limit };
          const after = this.decodeCursor(scope, params.cursor);
          const page = await sources.reader.page(findingsQuery(params), params.limit, after);
          return json(200, { findings: page.findings.map(findingJson), nextCursor: page.next ? this.cursors.encode(scope, page.next) : null });
        },
      },
      {
        path: '/objects/{bucket}/{key}',
        match: objectPath,
        authenticated: true,
        parameters: noParameters,
        summary: "One object's current state and full history (oldest first). Encode the key with encodeURIComponent; '/' may also be left as is.",
        response: objectSchema,
        handle: async ({ pathParameters: { bucket, key } }) => {
          const [state, history] = await Promise.all([sources.reader.state(bucket!, key!), sources.reader.history(bucket!, key!)]);
          if (!state && history.length === 0) throw new ApiError(404, 'not-found', 'no finding recorded for this object');
          return json(200, { state: state ? findingJson(state) : null, history });
        },
      },
      {
        path: '/keys',
        authenticated: true,
        parameters: noParameters,
        summary: 'KMS keys seen: state, rotation, and blast radius (objects and bytes under each). At-risk keys first.',
        response: keysSchema,
        handle: async () => json(200, { keys: keysView(await sources.summary()) }),
      },
      {
        path: '/accounts',
        authenticated: true,
        parameters: noParameters,
        summary:
          'Per AWS account, the worst first (a coverage gap, then the most objects not proven compliant): counts, at-risk keys the account owns, and its coverage in the newest multi-account run. Filter /findings with account= to list its objects.',
        response: accountsSchema,
        handle: async () => json(200, { accounts: await accountsView(await sources.summary(), sources.reader) }),
      },
      {
        path: '/remediations',
        authenticated: true,
        parameters: remediationsParameters,
        summary: 'The change log: every fix recorded, newest first, each described in words (before → after, key alias, Bucket Key, ETag), in pages joined by an opaque cursor.',
        response: remediationsPageSchema,
        handle: async ({ query }) => json(200, await this.remediations(query as RemediationsParameters)),
      },
      ...EXPORT_FORMATS.map(
        (format): Route => ({
          path: `/export.${format}`,
          authenticated: true,
          parameters: exportParameters,
          summary:
            format === 'asff'
              ? 'Findings as AWS Security Finding Format documents ({"Findings": [...]}, ready for Security Hub BatchImportFindings in chunks of 100).'
              : `Every matching finding as ${format.toUpperCase()}, streamed. A response cut to fit a buffered transport links to the rest (Link: rel="next").`,
          contentType: exportFrame(format).contentType,
          handle: async ({ query, options }) => this.export(format, query as ExportParameters, options),
        }),
      ),
      parquetExportRoute({
        reader: sources.reader,
        region: sources.region,
        accountId: (options) => this.config.accountId ?? options.accountId,
        query: findingsQuery,
        linkParams: stringParams,
        scope: filterScope,
        cursors: { decode: (scope, cursor) => this.decodeCursor(scope, cursor), encode: (scope, position) => this.cursors.encode(scope, position) },
      }),
      ...(sources.changes ? [eventsRoute(sources.changes, { decode: (scope, cursor) => this.decodeCursor(scope, cursor), encode: (scope, position) => this.cursors.encode(scope, position) })] : []),
    ];
  }

  private async remediations(params: RemediationsParameters): Promise<{ remediations: RemediationView[]; nextCursor: string | null }> {
    const scope = { route: 'remediations', limit: params.limit };
    // The log's position is its sort key (`<at>#<bucket>/<key>`), carried in the cursor's key field.
    const after = this.decodeCursor(scope, params.cursor);
    const [page, summary] = await Promise.all([this.sources.reader.newestPage(REMEDIATIONS_PK, params.limit, after?.key), this.sources.summary()]);
    const aliases = keyAliases(summary);
    return {
      remediations: page.items.map((item) => remediationView(item, aliases)).filter((r): r is RemediationView => r !== undefined),
      nextCursor: page.nextSk ? this.cursors.encode(scope, { bucket: REMEDIATIONS_PK, key: page.nextSk }) : null,
    };
  }

  private export(format: ExportFormat, params: ExportParameters, options: HandleOptions): ApiResponse {
    const scope = { route: `export.${format}`, ...filterScope(params) };
    const after = this.decodeCursor(scope, params.cursor);
    const accountId = this.config.accountId ?? options.accountId;
    if (format === 'asff' && !accountId) {
      throw new ApiError(503, 'not-configured', 'the ASFF export needs the AWS account id: set SSEGUARD_ACCOUNT_ID');
    }
    const asff = { accountId: accountId ?? '', region: this.sources.region };
    const frame = exportFrame(format);
    const budget = options.maxBodyBytes ?? Number.POSITIVE_INFINITY;
    let nextCursor: string | undefined;
    const reader = this.sources.reader;
    const cursors = this.cursors;
    const query = findingsQuery(params);
    async function* chunks(): AsyncGenerator<string> {
      let bytes = frame.open.length;
      let first = true;
      let last: Position | undefined;
      yield frame.open;
      for await (const finding of reader.each(query, after)) {
        if (bytes >= budget && last) {
          // A row exists beyond the budget: the rest is another page.
          nextCursor = cursors.encode(scope, last);
          break;
        }
        const row = (first ? '' : frame.separator) + exportRow(format, finding, asff);
        bytes += Buffer.byteLength(row);
        first = false;
        last = { bucket: finding.bucket, key: finding.key };
        yield row;
      }
      yield frame.close(nextCursor);
    }
    const extension = format === 'asff' ? 'asff.json' : format;
    return {
      status: 200,
      headers: { 'content-type': frame.contentType, 'content-disposition': `attachment; filename="sseguard-findings.${extension}"` },
      body: chunks(),
      trailingHeaders: (): Record<string, string> => (nextCursor ? { link: `</export.${format}?${new URLSearchParams({ ...stringParams(params), cursor: nextCursor })}>; rel="next"` } : {}),
    };
  }
}

function filterScope(params: FindingsQueryParams) {
  return { bucket: params.bucket, prefix: params.prefix, verdict: params.verdict, mode: params.mode, kmsKey: params.kmsKey, account: params.account, region: params.region };
}

type FindingsQueryParams = Pick<FindingsParameters, 'bucket' | 'prefix' | 'verdict' | 'mode' | 'kmsKey' | 'account' | 'region'>;
function findingsQuery(params: FindingsQueryParams): FindingsQuery {
  return {
    ...(params.bucket ? { bucket: params.bucket } : {}),
    ...(params.prefix ? { prefix: params.prefix } : {}),
    ...(params.verdict ? { verdict: params.verdict } : {}),
    ...(params.mode ? { mode: params.mode } : {}),
    ...(params.kmsKey ? { kmsKeyArn: params.kmsKey } : {}),
    ...(params.account ? { account: params.account } : {}),
    ...(params.region ? { region: params.region } : {}),
  };
}

function stringParams(params: ExportParameters): Record<string, string> {
  return Object.fromEntries(Object.entries(filterScope(params)).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
