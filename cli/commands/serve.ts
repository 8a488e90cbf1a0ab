// `sseguard serve`: the report API and dashboard on localhost, answered by the same shared/report
// handler as the Lambda. This file is only the HTTP adapter: Node request → ApiRequest, and the
// ApiResponse back, streamed (exports of any size in constant memory, with backpressure).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '#shared/config.ts';
import { loadReportApiConfig } from '#shared/report/api-config.ts';
import type { ReportApi } from '#shared/report/api.ts';
import type { ApiRequest } from '#shared/report/router.ts';
import { createReportApi } from '#shared/report-api/create-report-api.ts';
import { createRuntime } from '#shared/runtime.ts';
import { errorFacts } from '#shared/aws/errors.ts';
import { write } from '../output/stream.ts';
import { CliError, EXIT, errorLine } from '../vocabulary.ts';

/**
 * One log line for one failed request: what failed and why, never a stack trace (a dashboard
 * polling a broken table would bury the terminal). The status the client got is 500 either way.
 */
export function failedRequestLine(message: string, error: unknown): string {
  const { name, message: why, status } = errorFacts(error);
  const code = (error as { code?: unknown } | null)?.code;
  const cause = `${name}${typeof code === 'string' && code !== name ? ` (${code})` : ''}${status === undefined ? '' : ` [HTTP ${status}]`}: ${why}`;
  return `sseguard serve: ${message}: ${cause.replace(/\s*\n\s*/g, ' ')}`;
}

export interface ServeOptions {
  port: number;
  host: string;
  /** false only with an explicit --no-auth. */
  auth: boolean;
}

export interface RunningReportServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

function apiRequest(request: IncomingMessage): ApiRequest {
  const target = request.url ?? '/';
  const queryAt = target.indexOf('?');
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return {
    method: request.method ?? 'GET',
    rawPath: queryAt < 0 ? target : target.slice(0, queryAt),
    rawQuery: queryAt < 0 ? '' : target.slice(queryAt + 1),
    headers,
  };
}

async function answer(api: ReportApi, request: IncomingMessage, response: ServerResponse, logError: (error: unknown) => void): Promise<void> {
  const result = await api.handle(apiRequest(request));
  response.writeHead(result.status, result.headers);
  if (typeof result.body === 'string' || result.body instanceof Uint8Array) {
    response.end(result.body);
    return;
  }
  try {
    for await (const chunk of result.body) {
      // A client that went away stops the export: leaving the loop stops the table reads.
      if (response.destroyed) return;
      await write(response, chunk);
    }
    response.end();
  } catch (error) {
    // Headers are sent: the only honest signal left is to cut the connection.
    logError(error);
    response.destroy();
  }
}

export async function startReportServer(
  api: ReportApi,
  options: { port: number; host: string },
  logError: (error: unknown) => void = (error) => console.error(failedRequestLine('response failed', error)),
): Promise<RunningReportServer> {
  const server = createServer((request, response) => {
    answer(api, request, response, logError).catch((error) => {
      logError(error);
      response.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export async function serveCommand(config: Config, options: ServeOptions): Promise<number> {
  if (options.auth && !process.env.SSEGUARD_API_TOKEN) {
    console.error(errorLine('SSEGUARD_API_TOKEN is not set. Set it (for example: export SSEGUARD_API_TOKEN=$(openssl rand -hex 32)),'));
    console.error('or pass --no-auth to serve every finding to anyone who can reach the port.');
    return EXIT.error;
  }
  const env = options.auth ? process.env : { ...process.env, SSEGUARD_API_TOKEN: undefined };
  const apiConfig = loadReportApiConfig(env, { allowNoAuth: !options.auth });
  const api = createReportApi(createRuntime(config), apiConfig, (message, error) => console.error(failedRequestLine(message, error)));
  const running = await startReportServer(api, { port: options.port, host: options.host }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`port ${options.port} on ${options.host} is already in use: stop what runs there or choose another --port`);
    if (code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new CliError(`cannot listen on ${options.host}:${options.port} (${code})`);
    throw error;
  });
  if (!options.auth) {
    const banner = '!'.repeat(78);
    console.error(`${banner}\n!! AUTHENTICATION IS OFF (--no-auth): anyone who can reach ${running.url}\n!! can read every finding. Use this only on a machine you alone use.\n${banner}`);
  }
  console.log(`sseguard serve: report API and dashboard on ${running.url}/ (table ${config.table})`);
  if (options.auth) console.log(`  dashboard: ${running.url}/#token=<SSEGUARD_API_TOKEN>   API: curl -H "Authorization: Bearer $SSEGUARD_API_TOKEN" ${running.url}/summary`);
  console.log('Press Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.close();
  console.log('sseguard serve: stopped');
  return 0;
}
