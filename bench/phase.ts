// One measured phase of the benchmark, run in a fresh process so that its peak RSS and its call
// counts are its own, and its CPU time (process.cpuUsage() around the timed part) is the work of that
// phase alone, not the emulator's. Prints one JSON line (PhaseResult) on stdout; progress and errors on stderr.
//   head: lists the keys (untimed), then times one HeadObject per key at the given concurrency.
//   scan: times scanBucket as the product runs it, recording findings in DynamoDB.
//   scan-no-record: the same scan without the findings store (isolates the cost of recording).
//   inventory: times scanFromInventory as `sseguard scan --inventory s3://D/P` runs it (recording).
// The endpoint, region, credentials and findings table come from the environment.
import { parseArgs } from 'node:util';
import { HeadObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import type { Pluggable } from '@smithy/types';
import { createAwsClients, type AwsClients } from '#shared/aws/clients.ts';
import { countCalls, type CallCounts } from '#shared/aws/call-counter.ts';
import { errorFacts } from '#shared/aws/errors.ts';
import { loadConfig } from '#shared/config.ts';
import { ensureFindingsTable } from '#shared/findings/dynamodb-store.ts';
import { ObjectAbsenceMarks } from '#shared/findings/absence-marks.ts';
import { createRuntime, scanDependencies } from '#shared/runtime.ts';
import { scanBucket } from '#shared/audit/scan.ts';
import { scanFromInventory } from '#shared/audit/inventory-scan-run.ts';
import { recordingBaseline } from '#shared/audit/inventory-baseline.ts';
import { parseInventoryLocation } from '#shared/inventory/manifest.ts';
import { s3InventorySource } from '#shared/inventory/source.ts';
import { WriteUnitCounter, type WriteUnits } from './dynamodb-units.ts';

export type PhaseName = 'head' | 'scan' | 'scan-no-record' | 'inventory';

/**
 * DynamoDB items the phase's requests named, for pricing in request units (what the bill counts,
 * where a request count says nothing of its size): items written alone or in BatchWriteItem (1 WRU
 * each up to 1 KB), items in TransactWriteItems (2 WRU each up to 1 KB; ConditionCheck counted apart),
 * keys read by GetItem/BatchGetItem (1 RRU each up to 4 KB consistent, 0.5 eventually consistent),
 * and items Query/Scan returned (their RRU are the bytes read over 4 KB, not a count).
 */
export interface DynamoDbItems {
  written: number;
  transactional: number;
  conditionChecks: number;
  readConsistent: number;
  readEventual: number;
  queried: number;
}

export interface PhaseResult {
  phase: PhaseName;
  prefix: string;
  concurrency: number;
  objects: number;
  seconds: number;
  perSec: number;
  /** Calls made during the timed part, by operation. */
  calls: CallCounts;
  /** DynamoDB items named by the timed part's requests (see DynamoDbItems). */
  dynamodbItems: DynamoDbItems;
  /** Write request units of the timed part's writes by item type, from the items' sizes (bench/dynamodb-units.ts). */
  writeUnits: WriteUnits;
  /** Time spent in each operation's calls during the timed part (sum over calls, so it overlaps). */
  callMs: Record<string, number>;
  /** CPU time of this process (user + system, process.cpuUsage()) during the timed part, in ms. */
  cpuUserMs: number;
  cpuSystemMs: number;
  /** (user + system) µs over objects: what one object costs this process, whatever the emulator costs. */
  cpuUsPerObject: number;
  /** Peak resident set size of this process over its whole life (process.resourceUsage().maxRSS). */
  peakRssMb: number;
  /** Resident set size just before the timed part (modules loaded, clients built). */
  rssBeforeMb: number;
  /** Highest V8 heap in use, sampled every 50 ms during the timed part. */
  peakHeapUsedMb: number;
  /** head: SSE-C objects (HeadObject answers 400 without the customer key). scan: verdict counts. */
  detail: Record<string, number>;
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Adds up the wall time of every call by operation (bench-only, next to the product's counter). */
function timeCalls(clients: AwsClients): Record<string, number> {
  const totals: Record<string, number> = {};
  const plugin = <Input extends object, Output extends object>(): Pluggable<Input, Output> => ({
    applyToStack(stack) {
      stack.add(
        (next, context) => async (args) => {
          const name = (context.commandName ?? 'unknown').replace(/Command$/, '');
          const started = performance.now();
          try {
            return await next(args);
          } finally {
            totals[name] = (totals[name] ?? 0) + performance.now() - started;
          }
        },
        { step: 'initialize', name: 'sseguardBenchTimer', override: true },
      );
    },
  });
  clients.s3.middlewareStack.use(plugin());
  clients.kms.middlewareStack.use(plugin());
  clients.dynamodb.middlewareStack.use(plugin());
  return totals;
}

/** Counts the DynamoDB items each request names (bench-only, beside the product's call counter). */
function countItems(clients: AwsClients): DynamoDbItems {
  const items: DynamoDbItems = { written: 0, transactional: 0, conditionChecks: 0, readConsistent: 0, readEventual: 0, queried: 0 };
  type Input = {
    TransactItems?: { ConditionCheck?: unknown }[];
    RequestItems?: Record<string, unknown[] | { Keys?: unknown[]; ConsistentRead?: boolean }>;
    ConsistentRead?: boolean;
  };
  clients.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? '').replace(/Command$/, '');
      const input = args.input as Input;
      if (name === 'TransactWriteItems') {
        for (const item of input.TransactItems ?? []) {
          if (item.ConditionCheck) items.conditionChecks += 1;
          else items.transactional += 1;
        }
      } else if (name === 'BatchWriteItem') {
        for (const writes of Object.values(input.RequestItems ?? {})) items.written += Array.isArray(writes) ? writes.length : 0;
      } else if (name === 'PutItem' || name === 'UpdateItem' || name === 'DeleteItem') {
        items.written += 1;
      } else if (name === 'GetItem') {
        if (input.ConsistentRead) items.readConsistent += 1;
        else items.readEventual += 1;
      } else if (name === 'BatchGetItem') {
        for (const read of Object.values(input.RequestItems ?? {})) {
          if (Array.isArray(read)) continue;
          if (read.ConsistentRead) items.readConsistent += read.Keys?.length ?? 0;
          else items.readEventual += read.Keys?.length ?? 0;
        }
      }
      const result = await next(args);
      if (name === 'Query' || name === 'Scan') items.queried += (result.output as { Count?: number }).Count ?? 0;
      return result;
    },
    { step: 'initialize', name: 'sseguardBenchItemCounter', override: true },
  );
  return items;
}

/** Sizes every item the findings table is sent (marshalled: after the document client's middleware). */
function countWriteUnits(clients: AwsClients): WriteUnitCounter {
  const counter = new WriteUnitCounter();
  clients.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? '').replace(/Command$/, '');
      counter.request(name, args.input as Record<string, unknown>);
      const result = await next(args);
      const output = result.output as { Responses?: Record<string, Record<string, Record<string, unknown>>[]>; Items?: Record<string, Record<string, unknown>>[] };
      if (name === 'BatchGetItem') for (const items of Object.values(output.Responses ?? {})) counter.read(items);
      if (name === 'Query' || name === 'Scan' || name === 'GetItem') counter.read(output.Items ?? [(output as { Item?: Record<string, Record<string, unknown>> }).Item].filter((i) => i !== undefined));
      return result;
    },
    { step: 'build', name: 'sseguardBenchWriteUnits', override: true },
  );
  return counter;
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) {
    const delta = value - (before[name] ?? 0);
    if (delta !== 0) out[name] = Math.round(delta * 10) / 10;
  }
  return out;
}

/** Times `work` and samples the heap while it runs; calls and call times are counted from here. */
async function measured(
  clients: AwsClients,
  counts: CallCounts,
  times: Record<string, number>,
  work: () => Promise<{ objects: number; detail: Record<string, number> }>,
  items: DynamoDbItems = countItems(clients),
  units: WriteUnitCounter = countWriteUnits(clients),
): Promise<Omit<PhaseResult, 'phase' | 'prefix' | 'concurrency'>> {
  const itemsBefore = { ...items };
  const countsBefore = { ...counts };
  const timesBefore = { ...times };
  const rssBefore = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 50);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    const { objects, detail } = await work();
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      objects,
      seconds: Math.round(seconds * 1000) / 1000,
      perSec: Math.round((objects / seconds) * 10) / 10,
      cpuUserMs: Math.round(cpu.user / 100) / 10,
      cpuSystemMs: Math.round(cpu.system / 100) / 10,
      cpuUsPerObject: objects ? Math.round(((cpu.user + cpu.system) / objects) * 10) / 10 : 0,
      calls: difference(counts, countsBefore),
      dynamodbItems: Object.fromEntries(Object.entries(items).map(([k, v]) => [k, v - itemsBefore[k as keyof DynamoDbItems]])) as unknown as DynamoDbItems,
      writeUnits: units.result(),
      callMs: difference(times, timesBefore),
      peakRssMb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
      rssBeforeMb: mb(rssBefore),
      peakHeapUsedMb: mb(peakHeap),
      detail,
    };
  } finally {
    clearInterval(sampler);
    clients.s3.destroy();
    clients.kms.destroy();
    clients.dynamodb.destroy();
  }
}

async function headLoop(bucket: string, prefix: string, concurrency: number) {
  // The same S3 client configuration as the scan's (createRuntime builds its clients this way).
  const clients = createAwsClients({ maxSockets: concurrency });
  const keys: string[] = [];
  const pages = paginateListObjectsV2({ client: clients.s3, pageSize: 1000 }, { Bucket: bucket, ...(prefix ? { Prefix: prefix } : {}) });
  for await (const page of pages) for (const object of page.Contents ?? []) keys.push(object.Key!);
  const counts = countCalls(clients);
  const times = timeCalls(clients);

  return measured(clients, counts, times, async () => {
    let next = 0;
    let sseC = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        try {
          await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        } catch (error) {
          // SSE-C objects answer 400 without the customer key, as in the scan: that is their answer.
          if (errorFacts(error).status !== 400) throw error;
          sseC += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { objects: keys.length, detail: { sseC } };
  });
}

async function scan(bucket: string, prefix: string, concurrency: number, record: boolean) {
  const runtime = createRuntime(loadConfig(), { maxSockets: concurrency });
  const counts = countCalls(runtime.clients, runtime.regional);
  const times = timeCalls(runtime.clients);
  if (record) await ensureFindingsTable(runtime.clients.dynamodb, runtime.config.table);
  const deps = await scanDependencies(runtime, undefined, { record });

  return measured(runtime.clients, counts, times, async () => {
    const result = await scanBucket(deps, { bucket, ...(prefix ? { prefix } : {}), concurrency });
    const detail: Record<string, number> = {};
    for (const [verdict, count] of Object.entries(result.verdicts)) detail[verdict] = count ?? 0;
    return { objects: result.objects, detail };
  });
}

async function inventorySweep(bucket: string, prefix: string, concurrency: number, location: string) {
  const runtime = createRuntime(loadConfig(), { maxSockets: concurrency });
  const counts = countCalls(runtime.clients, runtime.regional);
  const times = timeCalls(runtime.clients);
  await ensureFindingsTable(runtime.clients.dynamodb, runtime.config.table);
  const deps = await scanDependencies(runtime);
  const inventory = s3InventorySource(runtime.clients.s3, parseInventoryLocation(location));

  return measured(runtime.clients, counts, times, async () => {
    // As the CLI runs it: only rows changed since the last verified report, plus the rolling re-check.
    const baseline = recordingBaseline(runtime.clients.documents, runtime.config.table, runtime.config.reverifyDays);
    const result = await scanFromInventory({ ...deps, inventory, baseline, absence: new ObjectAbsenceMarks(runtime.clients.documents, runtime.config.table) }, { bucket, ...(prefix ? { prefix } : {}), concurrency });
    const { rows, byInventory, byHead, skipped, removed, unchanged, diff } = result.inventory;
    const detail: Record<string, number> = {
      rows, byInventory, byHead, skipped, removed, unchanged, notAudited: result.notAudited,
      unchangedSinceReport: diff.unchangedSinceReport, reverified: diff.reverified, diffUsed: diff.fallback ? 0 : 1,
    };
    for (const [verdict, count] of Object.entries(result.verdicts)) detail[verdict] = count ?? 0;
    return { objects: result.objects, detail };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      phase: { type: 'string' },
      bucket: { type: 'string' },
      prefix: { type: 'string', default: '' },
      concurrency: { type: 'string' },
      inventory: { type: 'string' },
    },
    strict: true,
  });
  const phase = values.phase;
  const concurrency = Number(values.concurrency);
  if (phase !== 'head' && phase !== 'scan' && phase !== 'scan-no-record' && phase !== 'inventory') {
    throw new Error(`--phase must be head, scan, scan-no-record or inventory, got ${phase ?? 'nothing'}`);
  }
  if (phase === 'inventory' && !values.inventory) throw new Error('--inventory s3://destination/prefix is required with --phase inventory');
  if (!values.bucket) throw new Error('--bucket is required');
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a whole number ≥ 1`);
  const prefix = values.prefix ?? '';

  const measurement = phase === 'head'
    ? await headLoop(values.bucket, prefix, concurrency)
    : phase === 'inventory'
      ? await inventorySweep(values.bucket, prefix, concurrency, values.inventory!)
      : await scan(values.bucket, prefix, concurrency, phase === 'scan');
  const result: PhaseResult = { phase, prefix, concurrency, ...measurement };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// exitCode, not process.exit: the parent reads this process's output through pipes.
main().catch((error: unknown) => {
  process.stderr.write(`bench phase failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 2;
});
