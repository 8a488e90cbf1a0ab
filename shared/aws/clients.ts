// AWS SDK clients configured by the SDK's own conventions (AWS_REGION, AWS_ENDPOINT_URL and the
// service-specific AWS_ENDPOINT_URL_<SERVICE>, the credential chain). One set of clients per
// process: the SDK keeps connections alive across calls.
//
// Every client has bounded time (the SDK's default is to wait forever on an endpoint that accepts a
// connection and never answers) and adaptive retry: the SDK's client-side rate limiter slows the
// sending rate when AWS throttles, instead of spending the retry quota at full speed.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export interface AwsClients {
  s3: S3Client;
  kms: KMSClient;
  dynamodb: DynamoDBClient;
  documents: DynamoDBDocumentClient;
  sqs: SQSClient;
}

/** The services sseguard talks to, named as the SDK names their endpoint variables. */
export const SERVICES = ['s3', 'kms', 'dynamodb', 'sqs', 'eventbridge', 'athena', 'sts', 'organizations'] as const;
export type Service = (typeof SERVICES)[number];
export type Endpoints = Partial<Record<Service, string>>;

export interface Timeouts {
  /** TCP (and TLS) connection set-up. */
  connectMs: number;
  /** A socket with no data in either direction for this long is given up (the black-hole case). */
  socketIdleMs: number;
  /** One attempt of one request, end to end; long copies pass their own (see remediation). */
  requestMs: number;
  /** Attempts per request, first included; the audit retries what is still failing later itself. */
  maxAttempts: number;
}

// A dead endpoint costs maxAttempts × socketIdleMs (≈ 9 s) before the error reaches the caller.
export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 3_000, socketIdleMs: 3_000, requestMs: 60_000, maxAttempts: 3 };

export interface ClientOptions {
  /** Custom endpoints (LocalStack, moto, S3-compatible gateways), per service; default: the environment's. */
  endpoints?: Endpoints;
  /** One endpoint for every service (the emulator); service-specific entries of `endpoints` win. */
  endpoint?: string | undefined;
  /** Upper bound on concurrent HTTP connections per client; matches the scan's concurrency. */
  maxSockets?: number;
  timeouts?: Partial<Timeouts>;
  /** Another account's credentials (an assumed role, shared/accounts/credentials.ts); default: the chain's. */
  credentials?: AwsCredentialIdentityProvider;
  /** The Region these clients call; default: AWS_REGION. */
  region?: string;
}

/**
 * The endpoint of each service as every AWS SDK resolves it: AWS_ENDPOINT_URL_<SERVICE> first, then
 * AWS_ENDPOINT_URL; none when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true.
 */
export function endpointsFromEnvironment(env: NodeJS.ProcessEnv = process.env): Endpoints {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true') return {};
  const endpoints: Endpoints = {};
  for (const service of SERVICES) {
    const url = env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] || env.AWS_ENDPOINT_URL;
    if (url) endpoints[service] = url;
  }
  return endpoints;
}

export function resolveEndpoints(options: ClientOptions): Endpoints {
  const fromEnvironment = endpointsFromEnvironment();
  const resolved: Endpoints = {};
  for (const service of SERVICES) {
    const url = options.endpoints?.[service] ?? options.endpoint ?? fromEnvironment[service];
    if (url) resolved[service] = url;
  }
  return resolved;
}

/** Timeouts set in the environment (SSEGUARD_*_TIMEOUT_MS, SSEGUARD_MAX_ATTEMPTS); config.ts validates them. */
function timeoutsFromEnvironment(env: NodeJS.ProcessEnv = process.env): Partial<Timeouts> {
  const read = (name: string) => (env[name] && Number.isFinite(Number(env[name])) ? Number(env[name]) : undefined);
  const found = {
    connectMs: read('SSEGUARD_CONNECT_TIMEOUT_MS'),
    socketIdleMs: read('SSEGUARD_SOCKET_TIMEOUT_MS'),
    requestMs: read('SSEGUARD_REQUEST_TIMEOUT_MS'),
    maxAttempts: read('SSEGUARD_MAX_ATTEMPTS'),
  };
  return Object.fromEntries(Object.entries(found).filter(([, value]) => value !== undefined));
}

/** The settings every client shares: bounded time, adaptive retry, connection reuse. */
export function commonSettings(options: ClientOptions) {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...timeoutsFromEnvironment(), ...options.timeouts };
  const agent = { keepAlive: true, maxSockets: options.maxSockets ?? 50 };
  const requestHandler = {
    httpAgent: agent,
    httpsAgent: agent,
    connectionTimeout: timeouts.connectMs,
    socketTimeout: timeouts.socketIdleMs,
    requestTimeout: timeouts.requestMs,
    throwOnRequestTimeout: true,
  };
  return {
    requestHandler,
    maxAttempts: timeouts.maxAttempts,
    retryMode: 'adaptive',
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.region ? { region: options.region } : {}),
  };
}

/**
 * The settings (bounded time, retries, endpoint) for a client of a service the CLI alone uses
 * (Athena): its SDK is imported where it is used, so the Lambda bundles never carry it.
 */
export function clientSettings(service: Service, options: ClientOptions = {}) {
  const endpoint = resolveEndpoints(options)[service];
  return { ...commonSettings(options), ...(endpoint ? { endpoint } : {}) };
}

/** The DynamoDB clients alone, for a function that only reads the findings table (the report API). */
export function createDynamoDbClients(options: ClientOptions = {}): Pick<AwsClients, 'dynamodb' | 'documents'> {
  const endpoint = resolveEndpoints(options).dynamodb;
  const dynamodb = new DynamoDBClient({ ...commonSettings(options), ...(endpoint ? { endpoint } : {}) });
  const documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  return { dynamodb, documents };
}

export function createAwsClients(options: ClientOptions = {}): AwsClients {
  const endpoints = resolveEndpoints(options);
  const common = commonSettings(options);
  const at = (service: Service) => (endpoints[service] ? { endpoint: endpoints[service] } : {});
  // A custom S3 endpoint does not serve virtual-hosted bucket names: path-style whenever it is set.
  const s3 = new S3Client({ ...common, ...at('s3'), forcePathStyle: Boolean(endpoints.s3) });
  const kms = new KMSClient({ ...common, ...at('kms') });
  const { dynamodb, documents } = createDynamoDbClients(options);
  const sqs = new SQSClient({ ...common, ...at('sqs') });
  return { s3, kms, dynamodb, documents, sqs };
}

/**
 * The clients an audit of one account's objects needs (S3 and KMS), in that account (pass its assumed
 * role's `credentials`) and one Region; the findings table, the queue stay the central account's.
 */
export function createAccountClients(options: ClientOptions = {}): Pick<AwsClients, 's3' | 'kms'> {
  const endpoints = resolveEndpoints(options);
  const common = commonSettings(options);
  const s3 = new S3Client({ ...common, ...(endpoints.s3 ? { endpoint: endpoints.s3 } : {}), forcePathStyle: Boolean(endpoints.s3) });
  const kms = new KMSClient({ ...common, ...(endpoints.kms ? { endpoint: endpoints.kms } : {}) });
  return { s3, kms };
}
