// Report API benchmark: `npx tsx bench/report-bench.ts [--json]`. On a private emulator, loads
// findings through the real store, starts `sseguard serve` as its own process, and measures with
// autocannon at C concurrent connections:
//   /summary                 latency p50/p99 and requests/s
//   /findings?limit=100      first page, no filter (walks buckets from the counters)
//   /findings?bucket&verdict one index partition, the dashboard's usual filtered page
// first with the small load (default 10,000 findings), then the large one (default 100,000), and
// the DynamoDB work one /summary does at each size (requests, items read): the proof that its
// cost does not grow with the number of findings. Exit 0 when it ran, 2 when it could not.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-dynamodb';
import type { Pluggable } from '@smithy/types';
import { createAwsClients } from '#shared/aws/clients.ts';
import type { Finding } from '#shared/domain/finding.ts';
import type { Verdict } from '#shared/domain/verdict.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '#shared/findings/dynamodb-store.ts';
import { loadConfig } from '#shared/config.ts';
import { loadReportApiConfig } from '#shared/report/api-config.ts';
import { bodyText, createReportApi } from '#shared/report/create-report-api.ts';
import { createRuntime } from '#shared/runtime.ts';
import { freePort, startEmulator, type RunningEmulator } from '../cli/emulator-process.ts';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const TABLE = 'sseguard-report-bench';
const TOKEN = 'report-bench-token-0123456789abcdef0123';
const BUCKETS = 10;
const KEYS = Array.from({ length: 5 }, (_, i) => `arn:aws:kms:us-east-1:123456789012:key/0000000${i}-0000-4000-8000-000000000000`);
const LOAD_BATCH = 450;
const LOAD_CONCURRENCY = 4;

const HELP = `Usage: npx tsx bench/report-bench.ts [options]

Options:
  --small N         findings for the first measurement (default 10000)
  --large N         findings for the second measurement (default 100000)
  --connections C   concurrent connections (default 100)
  --duration S      seconds per measured route (default 10)
  --json            print one JSON object as the last line of stdout
  -h, --help        this help`;

const log = (message: string) => process.stderr.write(`report-bench: ${message}\n`);
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

function options() {
  const { values } = parseArgs({
    options: {
      small: { type: 'string' },
      large: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const whole = (name: string, text: string | undefined, fallback: number, min: number, max: number) => {
    const value = text === undefined ? fallback : Number(text);
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}`);
    return value;
  };
  const small = whole('small', values.small, 10_000, 100, 10_000_000);
  return {
    help: values.help ?? false,
    json: values.json ?? false,
    small,
    large: whole('large', values.large, 100_000, small, 10_000_000),
    connections: whole('connections', values.connections, 100, 1, 10_000),
    duration: whole('duration', values.duration, 10, 1, 600),
  };
}

const VERDICT_CYCLE: Verdict[] = ['compliant', 'compliant', 'compliant', 'compliant', 'compliant', 'compliant', 'noncompliant', 'at-risk', 'exempt', 'unauditable'];

/** Finding number i: spread over buckets, verdicts, modes and keys. */
function syntheticFinding(i: number): Finding {
  const verdict = VERDICT_CYCLE[i % VERDICT_CYCLE.length]!;
  const kms = i % 3 === 0;
  return {
    bucket: `bench-bucket-${String(i % BUCKETS).padStart(2, '0')}`,
    key: `data/${String(Math.floor(i / BUCKETS)).padStart(8, '0')}.parquet`,
    size: 1024 + (i % 4096),
    storageClass: 'STANDARD',
    mode: verdict === 'unauditable' ? undefined : kms ? 'sse-kms' : 'sse-s3',
    ...(kms && verdict !== 'unauditable' ? { kmsKeyArn: KEYS[i % KEYS.length]!, bucketKeyEnabled: true } : {}),
    verdict,
    reasons: verdict === 'compliant' ? [] : [{ code: 'not-encrypted', message: 'synthetic' }],
    remediate: false,
    auditedAt: '2026-11-20T00:00:00.000Z',
  };
}

async function load(store: DynamoFindingsStore, from: number, to: number): Promise<number> {
  const started = performance.now();
  let next = from;
  let done = 0;
  let lastReport = 0;
  await Promise.all(
    Array.from({ length: LOAD_CONCURRENCY }, async () => {
      while (next < to) {
        const start = next;
        const end = Math.min(to, start + LOAD_BATCH);
        next = end;
        await store.record(Array.from({ length: end - start }, (_, j) => syntheticFinding(start + j)));
        done += end - start;
        if (done - lastReport >= 10_000) {
          lastReport = done;
          log(`  loaded ${from + done} findings`);
        }
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/** DynamoDB requests and items read by one /summary, counted at the SDK boundary. */
async function summaryCost(): Promise<{ requests: number; itemsRead: number; bytes: number }> {
  const runtime = createRuntime(loadConfig());
  const cost = { requests: 0, itemsRead: 0 };
  const counter: Pluggable<ServiceInputTypes, ServiceOutputTypes> = {
    applyToStack(stack) {
      stack.add(
        (next) => async (args) => {
          const result = await next(args);
          cost.requests++;
          const output = result.output as { Count?: number; Items?: unknown[] };
          cost.itemsRead += output.Count ?? output.Items?.length ?? 0;
          return result;
        },
        { step: 'initialize', name: 'reportBenchCost' },
      );
    },
  };
  runtime.clients.dynamodb.middlewareStack.use(counter);
  const api = createReportApi(runtime, loadReportApiConfig({ SSEGUARD_API_TOKEN: TOKEN }));
  const response = await api.handle({ method: 'GET', rawPath: '/summary', rawQuery: '', headers: { authorization: `Bearer ${TOKEN}` } });
  if (response.status !== 200) throw new Error(`/summary answered ${response.status}`);
  return { ...cost, bytes: Buffer.byteLength(await bodyText(response.body)) };
}

async function startServe(env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(projectRoot, 'bin', 'sseguard.js'), 'serve', '--port', String(port)], {
    cwd: projectRoot,
    env: { ...env, SSEGUARD_API_TOKEN: TOKEN },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  for (let waited = 0; ; waited += 100) {
    if (child.exitCode !== null) throw new Error(`sseguard serve exited: ${stderr}`);
    if (waited > 30_000) throw new Error(`sseguard serve did not answer: ${stderr}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, child };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface RouteFigures {
  route: string;
  p50Ms: number;
  p99Ms: number;
  requestsPerSec: number;
  requests: number;
  non2xx: number;
  errors: number;
}

async function measure(url: string, route: string, connections: number, duration: number): Promise<RouteFigures> {
  const result = await autocannon({ url: `${url}${route}`, connections, duration, headers: { authorization: `Bearer ${TOKEN}` } });
  return {
    route,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requestsPerSec: round(result.requests.average),
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function main(): Promise<number> {
  let opts;
  try {
    opts = options();
  } catch (error) {
    console.error(`report-bench: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  let emulator: RunningEmulator | undefined;
  let serve: ChildProcess | undefined;
  const stop = async () => {
    serve?.kill('SIGTERM');
    await emulator?.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    emulator = await startEmulator({ port: await freePort() });
    const env = { ...process.env, AWS_ENDPOINT_URL: emulator.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', SSEGUARD_TABLE: TABLE };
    Object.assign(process.env, env);
    log(`emulator on ${emulator.endpoint}`);
    const clients = createAwsClients();
    await ensureFindingsTable(clients.dynamodb, TABLE);
    const store = new DynamoFindingsStore(clients.documents, TABLE);
    const running = await startServe(env);
    serve = running.child;
    const routes = ['/summary', '/findings?limit=100', `/findings?bucket=bench-bucket-03&verdict=at-risk&limit=100`];

    const sizes: { findings: number; loadSeconds: number; summaryCost: Awaited<ReturnType<typeof summaryCost>>; routes: RouteFigures[] }[] = [];
    let loaded = 0;
    for (const size of [opts.small, opts.large]) {
      log(`loading findings ${loaded} → ${size} (store.record, batches of ${LOAD_BATCH}, ${LOAD_CONCURRENCY} at once)…`);
      const loadSeconds = await load(store, loaded, size);
      loaded = size;
      const cost = await summaryCost();
      const figures: RouteFigures[] = [];
      for (const route of routes) {
        log(`  ${size} findings: ${route} at ${opts.connections} connections for ${opts.duration}s…`);
        figures.push(await measure(running.url, route, opts.connections, opts.duration));
      }
      sizes.push({ findings: size, loadSeconds: round(loadSeconds), summaryCost: cost, routes: figures });
    }

    const [small, large] = sizes as [(typeof sizes)[number], (typeof sizes)[number]];
    const summaryFlat = large.summaryCost.requests === small.summaryCost.requests && large.summaryCost.itemsRead === small.summaryCost.itemsRead;
    const lines = [
      `report API, ${opts.connections} connections, ${opts.duration}s per route, sseguard serve on the emulator`,
      ...sizes.flatMap((s) => [
        `${s.findings} findings (loaded in ${s.loadSeconds}s); one /summary = ${s.summaryCost.requests} DynamoDB requests, ${s.summaryCost.itemsRead} items read, ${s.summaryCost.bytes} bytes`,
        ...s.routes.map((r) => `  ${r.route.padEnd(58)} p50 ${String(r.p50Ms).padStart(5)} ms  p99 ${String(r.p99Ms).padStart(5)} ms  ${String(r.requestsPerSec).padStart(7)} req/s  non-2xx ${r.non2xx}  errors ${r.errors}`),
      ]),
      `/summary cost at ${large.findings} vs ${small.findings} findings: ${large.summaryCost.requests} vs ${small.summaryCost.requests} requests, ${large.summaryCost.itemsRead} vs ${small.summaryCost.itemsRead} items read: ${summaryFlat ? 'PASS (does not grow)' : 'FAIL (grows)'}`,
    ];
    console.log(lines.join('\n'));
    if (opts.json) console.log(JSON.stringify({ connections: opts.connections, durationSeconds: opts.duration, sizes, summaryCostFlat: summaryFlat }));
    return 0;
  } catch (error) {
    console.error(`report-bench: ${(error as Error).stack ?? error}`);
    return 2;
  } finally {
    await stop();
  }
}

process.exitCode = await main();
