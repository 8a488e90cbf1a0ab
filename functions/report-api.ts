// Report API Lambda (API Gateway HTTP API, payload format 2.0, $default stage): turns the event
// into an ApiRequest, lets shared/report answer it, and shapes the result. API Gateway buffers
// responses (6 MB at most), so exports are cut into pages joined by Link: rel="next".
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { reportTable } from '#commons/report-dependencies.ts';
import { logger, metrics, tracer } from '#powertools';
import { loadReportApiConfig } from '#shared/report/api-config.ts';
import type { ReportApi } from '#shared/report/api.ts';
import { bodyText, createReportApi } from '#shared/report-api/create-report-api.ts';

/** Under API Gateway's 6 MB payload limit, with room for headers. */
export const LAMBDA_BODY_BUDGET = 5_000_000;

let api: ReportApi | undefined;
function reportApi(): ReportApi {
  api ??= createReportApi(reportTable(), loadReportApiConfig(process.env), (message, error) => logger.error(message, error as Error));
  return api;
}

/** For tests that change the environment between cases. */
export function resetReportApi(): void {
  api = undefined;
}

// arn:aws:lambda:REGION:ACCOUNT:function:NAME
const accountOf = (functionArn: string | undefined) => functionArn?.split(':')[4];

async function lambdaHandler(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  const accountId = accountOf(context.invokedFunctionArn);
  const response = await reportApi().handle(
    { method: event.requestContext.http.method, rawPath: event.rawPath, rawQuery: event.rawQueryString ?? '', headers: event.headers ?? {} },
    { maxBodyBytes: LAMBDA_BODY_BUDGET, ...(accountId ? { accountId } : {}) },
  );
  // Bytes (a Parquet export) travel base64-encoded through API Gateway.
  const binary = response.body instanceof Uint8Array;
  const body = response.body instanceof Uint8Array ? Buffer.from(response.body).toString('base64') : await bodyText(response.body);
  metrics.addMetric(response.status >= 500 ? 'ApiServerErrors' : response.status >= 400 ? 'ApiClientErrors' : 'ApiRequests', MetricUnit.Count, 1);
  return { statusCode: response.status, headers: { ...response.headers, ...response.trailingHeaders?.() }, body, isBase64Encoded: binary };
}

export const handler = middy(lambdaHandler)
  // Exports reach megabytes; an X-Ray segment holds 64 KB: the response stays out of the trace.
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
