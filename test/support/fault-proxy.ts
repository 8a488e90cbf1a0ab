// A fault-injecting HTTP proxy between the AWS SDK and the emulator, on loopback only. It answers a
// seeded share of matching requests with the error AWS itself sends when throttling or failing
// (same status, headers and body, so the SDK classifies it exactly as it would in production), or
// with a dead socket; everything else is forwarded unchanged, streamed both ways.
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';

/**
 * throttle / server-error: AWS's own error answer; black-hole: the request is taken and never answered;
 * reset: TCP RST before the target sees the request; lost-response: the target handles the request
 * (the write happens), then the client's connection is reset instead of the answer being relayed;
 * truncate: the answer is relayed with half its body, then the connection is cut; wrong-region: S3's
 * answer to a request signed for another Region than the bucket's (moto serves every bucket from every
 * Region, AWS does not): 301 PermanentRedirect with x-amz-bucket-region.
 */
export type FaultKind = 'throttle' | 'server-error' | 'black-hole' | 'reset' | 'lost-response' | 'truncate' | 'wrong-region';
export type FaultService = 's3' | 's3control' | 'kms' | 'dynamodb' | 'sqs' | 'athena' | 'events' | 'securityhub' | 'organizations';
export interface FaultRule {
  /** Which requests: service 's3' | 's3control' | 'kms' | 'dynamodb' | 'sqs' | 'athena' | '*' and optionally the operation name. */
  service?: FaultService | '*';
  operation?: string;
  /** Only requests whose decoded path (`/<bucket>/<key>`, path-style) matches: one object among others (a manifest, one data file). */
  path?: RegExp;
  /** Share of matching requests that get the fault, 0..1 (deterministic given `seed`). */
  rate: number;
  /** 'truncate': the target's answer is relayed with its status, headers and half its body, then the connection is cut. */
  kind: FaultKind;
  /** At most this many faults from the rule (then its requests pass): "the first answer is lost". */
  times?: number;
  /** Only requests signed for this Region (the SigV4 credential scope): a fault in one Region of several. */
  region?: string;
  /** 'wrong-region': the Region of the bucket(s) `path` matches; only requests signed for another Region get the redirect. */
  bucketRegion?: string;
}
export interface FaultProxyOptions { target: string; rules?: FaultRule[]; seed?: number }
export interface FaultProxyStats { requests: Record<string, number>; faults: Record<string, number>; forwarded: Record<string, number> }
/**
 * One request as it reached the proxy. The SDK gives every call of a command one
 * `amz-sdk-invocation-id` and numbers its wire attempts in `amz-sdk-request: attempt=N; max=M`: a
 * logical call is an invocation, and attempts after the first are the SDK's own retries.
 */
export interface WireRequest {
  /** `service:Operation`, as in the stats. */
  key: string;
  /** The decoded path (`/<bucket>/<key>` for S3, path-style). */
  path: string;
  /** '' when the client sent none (not the AWS SDK). */
  invocation: string;
  /** 1 for the first attempt; 0 when the client sent no attempt header. */
  attempt: number;
  /** `kind` when a rule faulted it. */
  fault?: FaultKind;
  /** The target's status, once its answer was relayed whole. */
  status?: number;
  /** Why the exchange ended without an answer relayed: the target's connection failed, or the client gave up first (its timeout). */
  ended?: 'target-error' | 'client-gave-up';
}
export interface FaultProxy {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** Replaces the rules and re-seeds the PRNG, so each phase of a test is reproducible on its own. */
  setRules(rules: FaultRule[]): void;
  /**
   * Sees every AWS request as it is forwarded ('request', before the target has it) and as its answer
   * has been relayed ('response'): crash tests kill the client at exactly those points.
   */
  observe(observer: ((key: string, phase: 'request' | 'response') => void) | undefined): void;
  /** Keys: requests and forwarded (sent on to the target, whatever it answered) `service:Operation`; faults `service:Operation:kind`. */
  stats(): FaultProxyStats;
  /** Every request since the last resetStats, in arrival order, with its invocation and attempt. */
  wireRequests(): WireRequest[];
  resetStats(): void;
  /** Stops listening and ends every connection, held black-hole sockets included. */
  close(): Promise<void>;
}

/** A logical call: one SDK invocation and the attempt numbers of its wire requests (1..n; n > 1 when the SDK retried). */
export interface LogicalCall { key: string; path: string; attempts: number[] }

/** The wire requests grouped by SDK invocation, in order of each invocation's first request. */
export function logicalCalls(requests: WireRequest[]): LogicalCall[] {
  const calls = new Map<string, LogicalCall>();
  requests.forEach((request, i) => {
    // A client that sends no invocation id (not the AWS SDK): each request is its own call.
    const id = request.invocation || `#${i}`;
    const call = calls.get(id) ?? { key: request.key, path: request.path, attempts: [] };
    call.attempts.push(request.attempt);
    calls.set(id, call);
  });
  return [...calls.values()];
}

/** mulberry32: tiny, fast, and good enough to make `rate` a reliable share. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const header = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
};

// ------------------------------------------------------------------ which service and operation

/** The Region a request is signed for (SigV4 credential scope), '' when unsigned. */
function signingRegionOf(req: IncomingMessage, url: URL): string {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(header(req.headers, 'authorization'))?.[1]
    ?? url.searchParams.get('X-Amz-Credential')?.split('/')[2] ?? '';
}

/** The SigV4 credential scope (header, or query for presigned URLs) names the service reliably. */
function serviceOf(req: IncomingMessage, url: URL): FaultService {
  const credential = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(header(req.headers, 'authorization'))?.[1]
    ?? url.searchParams.get('X-Amz-Credential')?.split('/')[3];
  const target = header(req.headers, 'x-amz-target');
  const service = credential ?? (target.startsWith('DynamoDB_') ? 'dynamodb' : target.startsWith('TrentService.') ? 'kms' : target.startsWith('AmazonSQS.') ? 'sqs' : 's3');
  if (service === 'kms' || service === 'dynamodb' || service === 'sqs' || service === 'athena' || service === 'events' || service === 'securityhub' || service === 'organizations') return service;
  // S3 Control signs as "s3" too; its REST paths start with the API version.
  return url.pathname.startsWith('/v20180820/') ? 's3control' : 's3';
}

// Bucket sub-resources: the operation is <Get|Put|Delete> + this name (path-style, no key).
const BUCKET_SUBRESOURCES: Record<string, string> = {
  acl: 'BucketAcl', accelerate: 'BucketAccelerateConfiguration', cors: 'BucketCors', encryption: 'BucketEncryption',
  lifecycle: 'BucketLifecycleConfiguration', location: 'BucketLocation', logging: 'BucketLogging',
  notification: 'BucketNotificationConfiguration', 'object-lock': 'ObjectLockConfiguration', ownershipControls: 'BucketOwnershipControls',
  policy: 'BucketPolicy', policyStatus: 'BucketPolicyStatus', publicAccessBlock: 'PublicAccessBlock', replication: 'BucketReplication',
  requestPayment: 'BucketRequestPayment', tagging: 'BucketTagging', versioning: 'BucketVersioning', website: 'BucketWebsite',
};
const OBJECT_SUBRESOURCES: Record<string, string> = {
  acl: 'ObjectAcl', attributes: 'ObjectAttributes', 'legal-hold': 'ObjectLegalHold', retention: 'ObjectRetention', tagging: 'ObjectTagging',
};
const VERB: Record<string, string> = { GET: 'Get', PUT: 'Put', DELETE: 'Delete' };

/** S3 REST operation from method, path-style path and query, as @aws-sdk/client-s3 serializes them. */
function s3Operation(method: string, url: URL, headers: IncomingHttpHeaders): string {
  // The SDK adds x-id=<Operation> wherever method and path alone are ambiguous (GetObject, PutObject, CopyObject, UploadPart…).
  const xId = url.searchParams.get('x-id');
  if (xId) return xId;
  const q = url.searchParams;
  const [bucket = '', ...key] = url.pathname.slice(1).split('/');
  const copy = header(headers, 'x-amz-copy-source') !== '';
  if (!bucket) return method === 'GET' ? 'ListBuckets' : `${method}Service`;
  if (key.join('/') === '') {
    const sub = [...q.keys()].find((name) => name in BUCKET_SUBRESOURCES);
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'POST' && q.has('delete')) return 'DeleteObjects';
    if (method === 'GET' && q.get('list-type') === '2') return 'ListObjectsV2';
    if (method === 'GET' && q.has('versions')) return 'ListObjectVersions';
    if (method === 'GET' && q.has('uploads')) return 'ListMultipartUploads';
    if (sub && VERB[method]) return method === 'DELETE' && sub === 'lifecycle' ? 'DeleteBucketLifecycle' : `${VERB[method]}${BUCKET_SUBRESOURCES[sub]}`;
    return ({ GET: 'ListObjects', PUT: 'CreateBucket', DELETE: 'DeleteBucket' } as Record<string, string>)[method] ?? `${method}Bucket`;
  }
  const sub = [...q.keys()].find((name) => name in OBJECT_SUBRESOURCES);
  switch (method) {
    case 'HEAD': return 'HeadObject';
    case 'POST':
      if (q.has('uploads')) return 'CreateMultipartUpload';
      if (q.has('uploadId')) return 'CompleteMultipartUpload';
      if (q.has('restore')) return 'RestoreObject';
      return q.has('select') ? 'SelectObjectContent' : 'PostObject';
    case 'PUT':
      if (q.has('partNumber') && q.has('uploadId')) return copy ? 'UploadPartCopy' : 'UploadPart';
      if (q.has('encryption')) return 'UpdateObjectEncryption'; // PUT /{Key+}?encryption in the SDK's serializer
      if (sub) return `Put${OBJECT_SUBRESOURCES[sub]}`;
      return copy ? 'CopyObject' : 'PutObject';
    case 'GET':
      if (q.has('uploadId')) return 'ListParts';
      return sub ? `Get${OBJECT_SUBRESOURCES[sub]}` : 'GetObject';
    case 'DELETE':
      if (q.has('uploadId')) return 'AbortMultipartUpload';
      return q.has('tagging') ? 'DeleteObjectTagging' : 'DeleteObject';
    default: return `${method}Object`;
  }
}

/** S3 Control jobs API: POST/GET /v20180820/jobs[/{id}[/status]] (the operations sseguard sends). */
function s3ControlOperation(method: string, url: URL): string {
  const [, , resource = '', id, sub] = url.pathname.split('/');
  if (resource !== 'jobs') return `${method}${resource}`;
  if (!id) return method === 'POST' ? 'CreateJob' : 'ListJobs';
  if (sub === 'status') return 'UpdateJobStatus';
  return method === 'GET' ? 'DescribeJob' : `${method}Job`;
}

/** JSON-protocol services name the operation in X-Amz-Target (`DynamoDB_20120810.PutItem`); query protocol in Action. */
function operationOf(service: FaultService, req: IncomingMessage, url: URL): string {
  if (service === 's3') return s3Operation(req.method ?? 'GET', url, req.headers);
  if (service === 's3control') return s3ControlOperation(req.method ?? 'GET', url);
  // Security Hub is REST-JSON: the path names the operation (the two sseguard sends, and GetFindings).
  if (service === 'securityhub') return url.pathname === '/findings/import' ? 'BatchImportFindings' : url.pathname === '/findings' ? 'GetFindings' : `${req.method}${url.pathname}`;
  const target = header(req.headers, 'x-amz-target');
  return target.split('.').pop() || url.searchParams.get('Action') || 'Unknown';
}

// ------------------------------------------------------------------ AWS's own error responses

interface Reply { status: number; headers: Record<string, string>; body: string }

const s3Error = (status: number, code: string, message: string, requestId: string, head: boolean): Reply => ({
  status,
  headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId, 'x-amz-id-2': Buffer.from(requestId).toString('base64') },
  // S3 answers a HEAD with the status alone: the SDK then has only the status to go on, as with the real service.
  body: head ? '' : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message>`
    + `<RequestId>${requestId}</RequestId><HostId>${Buffer.from(requestId).toString('base64')}</HostId></Error>`,
});

const jsonError = (status: number, type: string, message: string, requestId: string, extra: Record<string, string> = {}, version = '1.0'): Reply => ({
  status,
  headers: { 'content-type': `application/x-amz-json-${version}`, 'x-amzn-requestid': requestId, 'x-amzn-errortype': type.split('#').pop() ?? type, ...extra },
  body: JSON.stringify({ __type: type, message }),
});

function faultReply(service: FaultService, kind: 'throttle' | 'server-error', head: boolean, dynamoThrottles: number): Reply {
  // S3 request ids are 16 upper-case hex digits; the JSON services use UUIDs.
  const id = service === 's3' || service === 's3control' ? randomBytes(8).toString('hex').toUpperCase() : randomUUID();
  const throttle = kind === 'throttle';
  switch (service) {
    case 's3':
      return throttle ? s3Error(503, 'SlowDown', 'Please reduce your request rate.', id, head)
        : s3Error(500, 'InternalError', 'We encountered an internal error. Please try again.', id, head);
    case 's3control':
      // S3 Control's REST-XML errors: TooManyRequestsException (a throttling code to the SDK) and InternalServiceException.
      return {
        status: throttle ? 400 : 500,
        headers: { 'content-type': 'application/xml', 'x-amz-request-id': id },
        body: `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Code>${throttle ? 'TooManyRequestsException' : 'InternalServiceException'}</Code>`
          + `<Message>${throttle ? 'Too many requests' : 'We encountered an internal error. Please try again.'}</Message></Error><RequestId>${id}</RequestId></ErrorResponse>`,
      };
    case 'dynamodb':
      if (!throttle) return jsonError(500, 'com.amazon.coral.availability#InternalServerError', 'Internal server error', id);
      // DynamoDB throttles data-plane calls with either name; alternate so both paths get exercised.
      return dynamoThrottles % 2 === 0
        ? jsonError(400, 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.', id)
        : jsonError(400, 'com.amazonaws.dynamodb.v20120810#ThrottlingException', 'Rate of requests exceeds the allowed throughput.', id);
    case 'kms':
      return throttle ? jsonError(400, 'ThrottlingException', 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.', id)
        : jsonError(500, 'KMSInternalException', 'An internal error occurred.', id);
    case 'sqs':
      // SQS speaks JSON 1.0 with awsQueryCompatible: x-amzn-query-error carries the query-era code and fault side.
      // The SDK's model gives RequestThrottled HTTP 403.
      return throttle ? jsonError(403, 'com.amazonaws.sqs#RequestThrottled', 'Request is throttled.', id, { 'x-amzn-query-error': 'RequestThrottled;Sender' })
        : jsonError(500, 'com.amazonaws.sqs#InternalError', 'We encountered an internal error. Please try again.', id, { 'x-amzn-query-error': 'InternalError;Receiver' });
    case 'events':
      // EventBridge (JSON 1.1) throttles with ThrottlingException, a 400.
      return throttle ? jsonError(400, 'ThrottlingException', 'Rate exceeded', id, {}, '1.1')
        : jsonError(500, 'InternalException', 'An internal error occurred.', id, {}, '1.1');
    case 'securityhub':
      // Security Hub (REST-JSON) answers 429 TooManyRequestsException with Code and Message in the body.
      return {
        status: throttle ? 429 : 500,
        headers: { 'content-type': 'application/json', 'x-amzn-requestid': id, 'x-amzn-errortype': throttle ? 'TooManyRequestsException' : 'InternalException' },
        body: JSON.stringify(throttle ? { Code: 'TooManyRequestsException', Message: 'Rate exceeded' } : { Code: 'InternalException', Message: 'Internal service error' }),
      };
    case 'organizations':
      // Organizations (JSON 1.1) throttles with TooManyRequestsException, a 400 the SDK retries as throttling.
      return throttle ? jsonError(400, 'TooManyRequestsException', 'You have sent too many requests in too short a period of time. The quota helps protect against denial-of-service attacks. Try again later.', id, {}, '1.1')
        : jsonError(500, 'ServiceException', 'AWS Organizations can\'t complete your request because of an internal service error. Try again later.', id, {}, '1.1');
    case 'athena':
      // Athena (JSON 1.1) throttles with TooManyRequestsException, a 400 the SDK retries as throttling.
      return throttle ? jsonError(400, 'TooManyRequestsException', 'Rate exceeded', id, {}, '1.1')
        : jsonError(500, 'InternalServerException', 'An internal error occurred.', id, {}, '1.1');
  }
}

// ------------------------------------------------------------------ the proxy

// Hop-by-hop headers belong to one connection; each side of the proxy keeps its own alive.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade']);
const endToEnd = (raw: string[]): string[] =>
  raw.flatMap((value, i) => (i % 2 === 0 && !HOP_BY_HOP.has(value.toLowerCase()) ? [value, raw[i + 1] ?? ''] : []));

const bump = (record: Record<string, number>, key: string) => { record[key] = (record[key] ?? 0) + 1; };

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function checked(rules: FaultRule[]): FaultRule[] {
  for (const rule of rules) {
    if (!(rule.rate >= 0 && rule.rate <= 1)) throw new Error(`fault rule rate must be within 0..1, got ${rule.rate}`);
    if (rule.kind === 'wrong-region' && !rule.bucketRegion) throw new Error('a wrong-region fault rule needs bucketRegion');
  }
  return rules;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (!LOOPBACK.has(target.hostname)) throw new Error(`the fault proxy only forwards to loopback, not ${target.hostname}`);
  const seed = options.seed ?? 1;
  let rules = checked(options.rules ?? []);
  let random = mulberry32(seed);
  let dynamoThrottles = 0;
  let counts: FaultProxyStats = { requests: {}, faults: {}, forwarded: {} };
  let wire: WireRequest[] = [];
  const held = new Set<Socket>();
  const used = new Map<FaultRule, number>();
  const upstream = new Agent({ keepAlive: true, maxSockets: 64 });

  let observer: ((key: string, phase: 'request' | 'response') => void) | undefined;
  const forward = (req: IncomingMessage, res: ServerResponse, key?: string, cut?: 'lose-response' | 'truncate', logged?: WireRequest) => {
    const loseResponse = cut === 'lose-response';
    const truncate = cut === 'truncate';
    const out = request({
      host: target.hostname, port: target.port, method: req.method, path: req.url, agent: upstream,
      headers: endToEnd(req.rawHeaders), // Host included: SigV4 signed it
    }, (upstreamRes) => {
      if (loseResponse) {
        upstreamRes.resume();
        upstreamRes.once('end', () => req.socket.resetAndDestroy());
        return;
      }
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, endToEnd(upstreamRes.rawHeaders));
      if (truncate) {
        // A body cut short (a connection dropped mid-download): half of what Content-Length promised, then the socket ends.
        // Without a Content-Length (chunked), one byte is relayed before the cut.
        const half = Math.max(1, Math.floor(Number(upstreamRes.headers['content-length'] ?? 0) / 2));
        let sent = 0;
        res.flushHeaders();
        upstreamRes.on('data', (chunk: Buffer) => {
          if (sent >= half) return;
          const part = chunk.subarray(0, half - sent);
          sent += part.length;
          // Cut only once the half has left: the client then holds headers and a partial body.
          res.write(part, () => {
            if (sent < half) return;
            upstreamRes.destroy();
            setTimeout(() => res.socket?.destroy(), 20);
          });
        });
        return;
      }
      upstreamRes.pipe(res);
      upstreamRes.on('error', () => res.destroy());
      res.on('finish', () => {
        if (logged) logged.status = upstreamRes.statusCode;
        if (key) observer?.(key, 'response');
      });
    });
    // Expect: 100-continue (the SDK sends it for S3 bodies of 2 MiB and more): the target says when to send the body.
    out.on('continue', () => res.writeContinue());
    // A dead target or a client that gave up: end the other side too, as a direct connection would.
    out.on('error', () => {
      if (logged) logged.ended ??= 'target-error';
      res.destroy();
    });
    res.on('close', () => {
      if (res.writableFinished) return;
      if (logged) logged.ended ??= 'client-gave-up';
      out.destroy();
    });
    req.pipe(out);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    // The emulator's own control plane (reset, state) is not AWS traffic: never faulted, never counted.
    if (url.pathname.startsWith('/moto-api/')) return forward(req, res);
    const service = serviceOf(req, url);
    const operation = operationOf(service, req, url);
    const key = `${service}:${operation}`;
    const signingRegion = signingRegionOf(req, url);
    bump(counts.requests, key);
    const logged: WireRequest = {
      key,
      path: decodeURIComponent(url.pathname),
      invocation: header(req.headers, 'amz-sdk-invocation-id'),
      attempt: Number(/attempt=(\d+)/.exec(header(req.headers, 'amz-sdk-request'))?.[1] ?? 0),
    };
    wire.push(logged);
    const rule = rules.find((r) => (r.service === undefined || r.service === '*' || r.service === service)
      && (r.operation === undefined || r.operation === operation)
      && (r.region === undefined || r.region === signingRegion)
      && (r.kind !== 'wrong-region' || r.bucketRegion !== signingRegion)
      && (r.path === undefined || r.path.test(decodeURIComponent(url.pathname)))
      && (r.times === undefined || (used.get(r) ?? 0) < r.times));
    // One draw per matching request, so the share of faults is `rate` whatever else passes through.
    if (!rule || random() >= rule.rate) {
      bump(counts.forwarded, key);
      observer?.(key, 'request');
      forward(req, res, key, undefined, logged);
      return;
    }
    bump(counts.faults, `${key}:${rule.kind}`);
    logged.fault = rule.kind;
    used.set(rule, (used.get(rule) ?? 0) + 1);
    if (rule.kind === 'black-hole') {
      held.add(req.socket);
      req.socket.once('close', () => held.delete(req.socket));
      req.resume(); // take the body so the client believes the request was sent, then say nothing
      return;
    }
    if (rule.kind === 'truncate') {
      forward(req, res, undefined, 'truncate');
      return;
    }
    if (rule.kind === 'reset') {
      req.socket.resetAndDestroy(); // TCP RST: the SDK sees ECONNRESET
      return;
    }
    if (rule.kind === 'lost-response') {
      bump(counts.forwarded, key);
      forward(req, res, key, 'lose-response');
      return;
    }
    if (rule.kind === 'wrong-region') {
      const id = randomBytes(8).toString('hex').toUpperCase();
      // A regional endpoint's answer (a HEAD gets the status and headers alone, as ever).
      const reply = s3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; the region '${signingRegion}' is wrong; expecting '${rule.bucketRegion}'`, id, req.method === 'HEAD');
      req.resume();
      res.writeHead(reply.status, { ...reply.headers, 'x-amz-bucket-region': rule.bucketRegion ?? '', 'content-length': String(Buffer.byteLength(reply.body)) });
      res.end(req.method === 'HEAD' ? undefined : reply.body);
      return;
    }
    const reply = faultReply(service, rule.kind, req.method === 'HEAD', service === 'dynamodb' && rule.kind === 'throttle' ? dynamoThrottles++ : 0);
    req.resume();
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(Buffer.byteLength(reply.body)) });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  };
  const server = createServer(handle);
  // Without this listener Node would answer 100 Continue itself; a fault must answer without one, as S3 does.
  server.on('checkContinue', handle);
  // Longer than any SDK idle socket lives in a test, so a reused connection is never closed under a request.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    setRules(next) { rules = checked(next); random = mulberry32(seed); dynamoThrottles = 0; },
    observe(next) { observer = next; },
    stats: () => structuredClone(counts),
    wireRequests: () => structuredClone(wire),
    resetStats() { counts = { requests: {}, faults: {}, forwarded: {} }; wire = []; },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of held) socket.destroy();
      server.closeAllConnections();
      upstream.destroy();
      await closed;
    },
  };
}

/** A TCP server that accepts connections and never answers (a black-hole endpoint). */
export async function startBlackHole(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    socket.resume(); // read and discard, never write
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
