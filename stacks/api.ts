// The report API: API Gateway HTTP API (payload 2.0, $default stage), every route to one Lambda.
// Authentication is the bearer token the handler checks (README: "Report API and dashboard"),
// so the gateway itself has no authorizer; the token is an SST secret (`sst secret set ApiToken`).
import { functionArgs } from './functions.ts';

export const apiToken = new sst.Secret('ApiToken');

export const api = new sst.aws.ApiGatewayV2('ReportApi');
const args = functionArgs('reportApi');
api.route('$default', { ...args, environment: { ...args.environment, SSEGUARD_API_TOKEN: apiToken.value } });
