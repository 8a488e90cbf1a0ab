// What one inventory file message costs the audit worker (shared/audit/inventory-file-audit.ts), on
// a private emulator: a synthetic gzip CSV data file of N rows (SSE-S3, NOT-SSE and SSE-C rows, all
// decided by the report: no HeadObject), audited first with nothing recorded (every finding written)
// and then again from a second report of the same objects (nothing changed: reads only). Prints rows
// per second and rows per minute for each pass, the process's peak RSS, and the memory per key of
// the reconciliation's key set. Figures are the emulator's (one Python process for S3 and DynamoDB
// on this machine's CPUs), not AWS's: a lower bound for the worker's time per file.
//   npx tsx bench/inventory-worker-bench.ts [--rows 50000] [--memory-only]
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { freePort, startEmulator, useEmulator } from '../cli/emulator-process.ts';
import { auditInventoryFile, type InventoryFileAuditDependencies } from '../shared/audit/inventory-file-audit.ts';
import { loadConfig } from '../shared/config.ts';
import { ensureFindingsTable } from '../shared/findings/dynamodb-store.ts';
import type { StoredFinding } from '../shared/findings/store.ts';
import { inventoryFileMessages } from '../shared/inventory/messages.ts';
import { ObjectAbsenceMarks } from '../shared/findings/absence-marks.ts';
import { InventoryFileCheckpoints } from '../shared/findings/inventory-checkpoints.ts';
import { InventoryReportProgress } from '../shared/findings/inventory-progress.ts';
import { s3InventorySource } from '../shared/inventory/source.ts';
import { loadPolicy } from '../shared/policy-loader.ts';
import { SqsQueues, ensureQueues } from '../shared/queue/sqs-queue.ts';
import { createRuntime } from '../shared/runtime.ts';

const rowsArg = process.argv.indexOf('--rows');
const ROWS = rowsArg >= 0 ? Number(process.argv[rowsArg + 1]) : 50_000;
const SOURCE = 'bench-fleet';
const DESTINATION = 'bench-reports';
const COLUMNS = ['Bucket', 'Key', 'Size', 'LastModifiedDate', 'ETag', 'StorageClass', 'EncryptionStatus', 'BucketKeyStatus'];
const STATUSES = ['SSE-S3', 'SSE-S3', 'NOT-SSE', 'SSE-C'];

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

function dataFile(rows: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const etag = createHash('md5').update(String(i)).digest('hex');
    lines.push(`"${SOURCE}","logs/2026/11/${i % 1000}/object-${i}.json","${1000 + (i % 7919)}","2026-11-30T01:02:03.000Z","${etag}","STANDARD","${STATUSES[i % STATUSES.length]}","DISABLED"`);
  }
  return gzipSync(`${lines.join('\n')}\n`);
}

async function putReport(runtime: ReturnType<typeof createRuntime>, folder: string, data: Buffer): Promise<string> {
  const base = `reports/${SOURCE}/sseguard`;
  const dataKey = `${base}/data/${folder}.csv.gz`;
  const manifestKey = `${base}/${folder}/manifest.json`;
  const manifest = JSON.stringify({
    sourceBucket: SOURCE,
    destinationBucket: `arn:aws:s3:::${DESTINATION}`,
    version: '2016-11-30',
    creationTimestamp: String(Date.parse(`${folder.slice(0, 13)}:${folder.slice(14, 16)}:00Z`)),
    fileFormat: 'CSV',
    fileSchema: COLUMNS.join(', '),
    files: [{ key: dataKey, size: data.length, MD5checksum: createHash('md5').update(data).digest('hex') }],
  });
  const put = (Key: string, Body: Buffer | string) => runtime.clients.s3.send(new PutObjectCommand({ Bucket: DESTINATION, Key, Body }));
  await put(dataKey, data);
  await put(manifestKey, manifest);
  await put(manifestKey.replace(/manifest\.json$/, 'manifest.checksum'), createHash('md5').update(manifest).digest('hex'));
  return manifestKey;
}

async function main(): Promise<void> {
  const emulator = await startEmulator({ port: await freePort() });
  // The emulator answers slower than AWS under load: give its sockets time, as a busy table would need.
  useEmulator(emulator.endpoint, { SSEGUARD_TABLE: 'bench-inventory-worker', SSEGUARD_QUEUE: 'bench-inventory-worker', SSEGUARD_SOCKET_TIMEOUT_MS: '30000' });
  try {
    const runtime = createRuntime(loadConfig());
    await ensureFindingsTable(runtime.clients.dynamodb, runtime.config.table);
    await ensureQueues(runtime.clients.sqs, runtime.config);
    await runtime.clients.s3.send(new CreateBucketCommand({ Bucket: DESTINATION }));
    const data = dataFile(ROWS);
    const destination = { bucket: DESTINATION, prefix: 'reports' };
    const queues = new SqsQueues(runtime.clients.sqs, runtime.config);
    const deps: InventoryFileAuditDependencies = {
      objects: runtime.objects,
      keys: runtime.keys,
      policy: await loadPolicy(undefined, runtime.keys),
      store: runtime.store,
      inventory: (d) => s3InventorySource(runtime.clients.s3, d),
      progress: new InventoryReportProgress(runtime.clients.documents, runtime.config.table),
      checkpoints: new InventoryFileCheckpoints(runtime.clients.documents, runtime.config.table),
      absence: new ObjectAbsenceMarks(runtime.clients.documents, runtime.config.table),
      queue: queues,
      // One message for the whole file: this bench measures the pace of rows, not the slicing.
      slices: { rowsPerMessage: Number.MAX_SAFE_INTEGER, msPerMessage: Number.POSITIVE_INFINITY },
    };
    console.log(`data file: ${ROWS} rows, ${(data.length / 1024).toFixed(0)} KiB gzip CSV`);
    const dynamoPasses = process.argv.includes('--memory-only') ? [] : ([['first audit (every finding written)', '2026-11-30T01-00Z'], ['unchanged (reads only)', '2026-12-01T01-00Z']] as const);
    for (const [pass, folder] of dynamoPasses) {
      const manifestKey = await putReport(runtime, folder, data);
      const [message] = inventoryFileMessages(await s3InventorySource(runtime.clients.s3, destination).at(SOURCE, manifestKey));
      const started = performance.now();
      const result = await auditInventoryFile(deps, message!);
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `${pass}: ${result.recorded.length} rows in ${seconds.toFixed(1)} s = ${Math.round(ROWS / seconds)} rows/s, ${Math.round((ROWS / seconds) * 60)} rows/min; HEADs ${result.stats?.byHead ?? 0}`,
      );
    }
    // The same audit with the findings held in memory: what parsing, deciding and evaluating cost
    // per row when the store answers at once (the ceiling DynamoDB's latency takes from).
    const memory = new Map<string, StoredFinding>();
    const inMemory: InventoryFileAuditDependencies['store'] = {
      async statesOf(_bucket, keys) {
        return new Map(keys.flatMap((k) => (memory.has(k) ? [[k, memory.get(k)!] as const] : [])));
      },
      async record(findings) {
        for (const f of findings) memory.set(f.key, { ...f, firstSeen: f.auditedAt, lastSeen: f.auditedAt, rev: 1 });
        return { undecided: [] };
      },
      async *findings() {},
    };
    for (const [pass, folder] of [['in memory, first audit', '2026-12-02T01-00Z'], ['in memory, unchanged', '2026-12-03T01-00Z']] as const) {
      const manifestKey = await putReport(runtime, folder, data);
      const [message] = inventoryFileMessages(await s3InventorySource(runtime.clients.s3, destination).at(SOURCE, manifestKey));
      const cpu = process.cpuUsage();
      const started = performance.now();
      await auditInventoryFile({ ...deps, store: inMemory }, message!);
      const seconds = (performance.now() - started) / 1000;
      const cpuSeconds = (process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1e6;
      console.log(`${pass}: ${Math.round(ROWS / seconds)} rows/s (${Math.round((ROWS / seconds) * 60)} rows/min), ${((cpuSeconds / ROWS) * 1e6).toFixed(0)} µs CPU per row`);
    }
    const before = process.memoryUsage().heapUsed;
    const keys = new Set<string>();
    for (let i = 0; i < ROWS; i++) keys.add(`logs/2026/11/${i % 1000}/object-${i}.json`);
    console.log(`reconciliation key set: ${Math.round((process.memoryUsage().heapUsed - before) / keys.size)} bytes per key (keys of ~33 characters)`);
    console.log(`peak RSS of this process: ${Math.round(peakRss / 1024 / 1024)} MiB`);
  } finally {
    clearInterval(sampler);
    await emulator.stop();
  }
}

await main();
