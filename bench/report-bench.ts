// Report API benchmark: `npx tsx bench/report-bench.ts [--json]`. On a private emulator (or the
// endpoint given), loads findings through the real store and starts `sseguard serve` as its own
// process, then:
//   latency   R requests per route at C concurrent connections (autocannon) with L findings loaded:
//             /summary; /findings?limit=100 (walks buckets from the counters); one index partition
//   cost      the DynamoDB requests and items one /summary reads, and one /summary's latency
//             alone, at S and at N findings: the proof that /summary does not grow with findings
// Exit 0 when it ran, 2 when it could not.
//
// Why latency is measured at L (default 1,000) and not at 100,000 on the emulator: moto answers
// every Query by walking all items of the table (index or not, ~30 µs per item), so at 100,000
// findings (200,000+ items) one /summary costs the emulator seconds of CPU and 100 connections
// queue for minutes; DynamoDB reads only the partition. Point --endpoint at LocalStack (or a
// patched emulator) and raise --latency-findings to measure at 100,000.
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
import { bodyText, createReportApi } from '#shared/report-api/create-report-api.ts';
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
  --latency-findings L  findings loaded for the latency measurement (default 1000)
  --small S         findings for the first /summary cost measurement (default 10000)
  --large N         findings for the second /summary cost measurement (default 100000)
  --connections C   concurrent connections (default 100)
  --requests R      requests measured per route (default 500)
  --endpoint URL    use this AWS endpoint (LocalStack, emulator) instead of starting one
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
      requests: { type: 'string' },
      'latency-findings': { type: 'string' },
      endpoint: { type: 'string' },
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
    requests: whole('requests', values.requests, 500, 10, 1_000_000),
    latencyFindings: whole('latency-findings', values['latency-findings'], 1000, 100, small),
    endpoint: values.endpoint,
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

async function measure(url: string, route: string, connections: number, requests: number): Promise<RouteFigures> {
  const result = await autocannon({ url: `${url}${route}`, connections, amount: requests, timeout: 600, headers: { authorization: `Bearer ${TOKEN}` } });
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
    const endpoint = opts.endpoint ?? (emulator = await startEmulator({ port: await freePort() })).endpoint;
    const env = { ...process.env, AWS_ENDPOINT_URL: endpoint, AWS_REGION: process.env.AWS_REGION ?? 'us-east-1', AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'testing', AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'testing', SSEGUARD_TABLE: TABLE };
    Object.assign(process.env, env);
    log(`endpoint ${endpoint}`);
    const clients = createAwsClients();
    await ensureFindingsTable(clients.dynamodb, TABLE);
    const store = new DynamoFindingsStore(clients.documents, TABLE);
    const running = await startServe(env);
    serve = running.child;
    const routes = ['/summary', '/findings?limit=100', `/findings?bucket=bench-bucket-03&verdict=at-risk&limit=100`];

    let loaded = 0;
    const loadTo = async (size: number) => {
      log(`loading findings ${loaded} → ${size} (store.record, batches of ${LOAD_BATCH}, ${LOAD_CONCURRENCY} at once)…`);
      const seconds = await load(store, loaded, size);
      loaded = size;
      return round(seconds);
    };
    const latencyLoadSeconds = await loadTo(opts.latencyFindings);
    const latency: RouteFigures[] = [];
    for (const route of routes) {
      log(`  ${opts.latencyFindings} findings: ${opts.requests} × ${route} at ${opts.connections} connections…`);
      latency.push(await measure(running.url, route, opts.connections, opts.requests));
    }
    const costs: { findings: number; loadSeconds: number; summary: Awaited<ReturnType<typeof summaryCost>>; aloneMs: number }[] = [];
    for (const size of [opts.small, opts.large]) {
      const loadSeconds = await loadTo(size);
      const started = performance.now();
      const alone = await fetch(`${running.url}/summary`, { headers: { authorization: `Bearer ${TOKEN}` } });
      if (alone.status !== 200) throw new Error(`/summary answered ${alone.status}`);
      await alone.arrayBuffer();
      const aloneMs = round(performance.now() - started);
      costs.push({ findings: size, loadSeconds, summary: await summaryCost(), aloneMs });
    }

    const [small, large] = costs as [(typeof costs)[number], (typeof costs)[number]];
    const summaryFlat = large.summary.requests === small.summary.requests && large.summary.itemsRead === small.summary.itemsRead;
    const lines = [
      `report API latency: ${opts.latencyFindings} findings (loaded in ${latencyLoadSeconds}s), ${opts.connections} connections, ${opts.requests} requests per route, sseguard serve on ${opts.endpoint ? endpoint : 'the emulator'}`,
      ...latency.map((r) => `  ${r.route.padEnd(58)} p50 ${String(r.p50Ms).padStart(6)} ms  p99 ${String(r.p99Ms).padStart(6)} ms  ${String(r.requestsPerSec).padStart(7)} req/s  non-2xx ${r.non2xx}  errors ${r.errors}`),
      '/summary cost:',
      ...costs.map((c) => `  ${String(c.findings).padStart(8)} findings (loaded in ${c.loadSeconds}s): ${c.summary.requests} DynamoDB requests, ${c.summary.itemsRead} items read, ${c.summary.bytes} bytes; alone ${c.aloneMs} ms`),
      `/summary at ${large.findings} vs ${small.findings} findings: ${large.summary.requests} vs ${small.summary.requests} requests, ${large.summary.itemsRead} vs ${small.summary.itemsRead} items read: ${summaryFlat ? 'PASS (does not grow)' : 'FAIL (grows)'}`,
    ];
    console.log(lines.join('\n'));
    if (opts.json) {
      console.log(JSON.stringify({ latency: { findings: opts.latencyFindings, connections: opts.connections, requestsPerRoute: opts.requests, routes: latency }, summaryCost: costs, summaryCostFlat: summaryFlat }));
    }
    return 0;
  } catch (error) {
    console.error(`report-bench: ${(error as Error).stack ?? error}`);
    return 2;
  } finally {
    await stop();
  }
}

process.exitCode = await main();
