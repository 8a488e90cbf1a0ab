// The report API's HTTP machinery, independent of its transport and of what the routes answer:
// route matching, GET/OPTIONS only, bearer authentication, CORS, query validation against each
// route's zod schema, one error shape, and the headers every response carries. The Lambda handler
// (functions/report-api.ts) and `sseguard serve` (cli/commands/serve.ts) both answer through it,
// so there is one router for both transports. Routes are in api.ts.
//
// Not Powertools' event-handler Router: it resolves the path through WHATWG URL (dot segments
// removed, a trailing slash stripped), which would change object keys such as `logs/` or `a/../b`,
// and its resolve() buffers the body, which would stop `serve` streaming exports.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';

export interface ApiRequest {
  method: string;
  /** The path as sent, still percent-encoded. */
  rawPath: string;
  /** The query string as sent, without the leading '?'. */
  rawQuery: string;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  /** A string, bytes (a Parquet export), or chunks produced on demand (exports) so that any size streams in constant memory. */
  body: string | Uint8Array | AsyncIterable<string>;
  /** Headers known only once the body has been produced (a buffered transport's `Link` to the next page). */
  trailingHeaders?: () => Record<string, string>;
}

export interface HandleOptions {
  /**
   * Transports that buffer the whole response (Lambda: 6 MB at most) set a budget: an export
   * stops after the row that crosses it and links to the rest with a cursor. Streaming
   * transports leave it unset and send everything.
   */
  maxBodyBytes?: number;
  /** Account id for ASFF findings when the configuration has none (Lambda: from the function ARN). */
  accountId?: string;
}

export type ErrorLogger = (message: string, error: unknown) => void;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues?: { parameter: string; message: string }[],
  ) {
    super(message);
  }
}

export interface RouteContext {
  query: Record<string, unknown>;
  pathParameters: Record<string, string>;
  options: HandleOptions;
}

export interface Route {
  path: string;
  /** Path matcher for routes with parameters; exact match on `path` otherwise. */
  match?: (rawPath: string) => Record<string, string> | undefined;
  authenticated: boolean;
  parameters: z.ZodObject;
  summary: string;
  response?: z.ZodType;
  contentType?: string;
  handle(context: RouteContext): Promise<ApiResponse> | ApiResponse;
}

export interface RouterConfig {
  /** undefined only when authentication was switched off explicitly (`sseguard serve --no-auth`). */
  token?: string;
  /** '*' or exact origins; empty: no CORS headers (the dashboard is same-origin). */
  corsOrigins: string[];
}

const JSON_TYPE = 'application/json';
export const json = (status: number, value: unknown, headers: Record<string, string> = {}): ApiResponse => ({
  status,
  headers: { 'content-type': JSON_TYPE, ...headers },
  body: JSON.stringify(value),
});

const errorResponse = (error: ApiError): ApiResponse =>
  json(error.status, { error: { status: error.status, code: error.code, message: error.message, ...(error.issues ? { issues: error.issues } : {}) } }, error.status === 401 ? { 'www-authenticate': 'Bearer realm="sseguard"' } : {});

function parseQuery(rawQuery: string, schema: z.ZodObject): Record<string, unknown> {
  const params = new URLSearchParams(rawQuery);
  const values: Record<string, string> = {};
  const issues: { parameter: string; message: string }[] = [];
  for (const [name, value] of params) {
    if (name in values) issues.push({ parameter: name, message: 'given more than once' });
    values[name] = value;
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const allowed = Object.keys(schema.shape);
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) issues.push({ parameter: key, message: allowed.length ? `unknown parameter (allowed: ${allowed.join(', ')})` : 'unknown parameter (this route takes none)' });
      } else issues.push({ parameter: issue.path.join('.'), message: issue.message });
    }
  }
  if (issues.length > 0) {
    throw new ApiError(400, 'bad-request', issues.map((i) => `${i.parameter}: ${i.message}`).join('; '), issues);
  }
  return parsed.data as Record<string, unknown>;
}

const digestOf = (text: string) => createHash('sha256').update(text).digest();

export class Router {
  private readonly tokenDigest?: Buffer;

  constructor(
    private readonly routes: readonly Route[],
    private readonly config: RouterConfig,
    private readonly logError: ErrorLogger = () => {},
  ) {
    if (config.token) this.tokenDigest = digestOf(config.token);
  }

  get authenticated(): boolean {
    return this.tokenDigest !== undefined;
  }

  async handle(request: ApiRequest, options: HandleOptions = {}): Promise<ApiResponse> {
    const cors = this.corsHeaders(request.headers.origin);
    let response: ApiResponse;
    try {
      response = await this.route(request, options);
    } catch (error) {
      if (error instanceof ApiError) response = errorResponse(error);
      else {
        // Internal details (table names, SDK messages, stacks) go to the log, never to the client.
        this.logError(`report API request failed: ${request.method} ${request.rawPath.slice(0, 200)}`, error);
        response = errorResponse(new ApiError(500, 'internal', 'internal error: the request could not be completed; see the service log'));
      }
    }
    return { ...response, headers: { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...cors, ...response.headers } };
  }

  private async route(request: ApiRequest, options: HandleOptions): Promise<ApiResponse> {
    let pathParameters: Record<string, string> | undefined;
    const route = this.routes.find((r) => (r.match ? (pathParameters = r.match(request.rawPath)) !== undefined : r.path === request.rawPath));
    if (!route) throw new ApiError(404, 'not-found', `no such route: ${request.rawPath.slice(0, 200)} (see /openapi.json)`);
    if (request.method === 'OPTIONS') return { status: 204, headers: this.preflightHeaders(request.headers.origin), body: '' };
    if (request.method !== 'GET') {
      return { ...errorResponse(new ApiError(405, 'method-not-allowed', `${request.method} is not allowed here: use GET`)), headers: { 'content-type': JSON_TYPE, allow: 'GET, OPTIONS' } };
    }
    if (route.authenticated) this.authenticate(request.headers.authorization);
    const query = parseQuery(request.rawQuery, route.parameters);
    return route.handle({ query, pathParameters: pathParameters ?? {}, options });
  }

  /** Compares digests, so the time taken says nothing about the token's length or content. */
  private authenticate(authorization: string | undefined): void {
    if (!this.tokenDigest) return;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new ApiError(401, 'unauthorized', 'missing bearer token: send Authorization: Bearer <token>');
    if (!timingSafeEqual(digestOf(match[1]!), this.tokenDigest)) throw new ApiError(401, 'unauthorized', 'wrong bearer token');
  }

  private allowedOrigin(origin: string | undefined): string | undefined {
    if (!origin || this.config.corsOrigins.length === 0) return undefined;
    if (this.config.corsOrigins.includes('*')) return '*';
    return this.config.corsOrigins.includes(origin) ? origin : undefined;
  }

  private corsHeaders(origin: string | undefined): Record<string, string> {
    const allowed = this.allowedOrigin(origin);
    if (!allowed) return {};
    return { 'access-control-allow-origin': allowed, 'access-control-expose-headers': 'link', ...(allowed === '*' ? {} : { vary: 'Origin' }) };
  }

  private preflightHeaders(origin: string | undefined): Record<string, string> {
    if (!this.allowedOrigin(origin)) return {};
    return { 'access-control-allow-methods': 'GET, OPTIONS', 'access-control-allow-headers': 'authorization', 'access-control-max-age': '600' };
  }
}
