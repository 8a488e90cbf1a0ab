// The Lambda tier's messages at two bucket sizes an order of magnitude apart: every message the
// audit worker would get for one report (data-file slices, their continuations, the reconcile
// message and its key-range messages), run one after the other as the queue would hand them out,
// each timed. The report is real gzip CSV parsed by the product's reader; the findings store, the
// queue and the checkpoints are in memory, so the figures are the worker's own CPU per message
// (DynamoDB's and S3's latency are not in them: see README "The Lambda sweep with S3 Inventory").
// Rows are SSE-S3 / NOT-SSE / SSE-C (decided by the report alone, no HeadObject).
// With --diff the second report is swept as with SSEGUARD_ATHENA_DIFF_TABLE: the diff's result (1%
// of the rows changed, the deleted ones vanished; in Athena's CSV shape) read in slice messages,
// and every data file in re-check-only mode; no reconcile message (shared/audit/inventory-diff-sweep.ts).
// With --athena-ranges the second report is swept in full as with SSEGUARD_ATHENA_DIFF_TABLE: each
// key-range message gets its keys from a range query's result file (Athena's CSV shape, made here
// from the report; that work is Athena's and is not counted in any message's time) and reads it in
// slices of --rows-per-message keys (shared/audit/inventory-file-audit.ts reconcileRangeFromAthena).
//   npx tsx bench/inventory-messages-bench.ts [--rows 50000,500000] [--rows-per-file 50000]
//     [--rows-per-message 10000] [--keys-per-message 50000] [--diff | --athena-ranges] [--json]
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { auditInventoryFile, DEFAULT_KEYS_PER_RECONCILE_MESSAGE, reconcileInventoryReport } from '../shared/audit/inventory-file-audit.ts';
import { auditInventoryDiffSlice, type InventoryDiffSweepDependencies } from '../shared/audit/inventory-diff-sweep.ts';
import { diffResultColumns } from '../shared/inventory/diff-result.ts';
import type { StoredFinding } from '../shared/findings/store.ts';
import type { InventoryFileCheckpoint } from '../shared/findings/inventory-checkpoints.ts';
import { readCsvRows } from '../shared/inventory/csv-reader.ts';
import { compareKeys, inRange } from '../shared/inventory/key-ranges.ts';
import type { InventoryDataFile } from '../shared/inventory/manifest.ts';
import { inventoryFileMessages } from '../shared/inventory/messages.ts';
import type { ReportProgress } from '../shared/findings/inventory-progress.ts';
import type { InventoryReport, InventorySource } from '../shared/inventory/source.ts';
import { parseMessageBody } from '../shared/events/audit-queue-messages.ts';
import { loadPolicy } from '../shared/policy-loader.ts';

const SOURCE = 'bench-messages';
const COLUMNS = ['Bucket', 'Key', 'Size', 'LastModifiedDate', 'ETag', 'StorageClass', 'EncryptionStatus', 'BucketKeyStatus'];
const STATUSES = ['SSE-S3', 'SSE-S3', 'NOT-SSE', 'SSE-C'];
const PROJECTED_OBJECTS = 1e9;

export interface MessageFigures {
  rows: number;
  files: number;
  messages: { dataFile: number; reconcile: number; diffSlices?: number };
  /** With --athena-ranges: key-range messages (start, poll, slices) and the slowest slice: seconds and keys it read. */
  rangeMessages?: number;
  maxRangeSliceMessage?: { seconds: number; keys: number };
  /** With --diff: the slowest slice message of the diff's result: seconds and rows it read. */
  maxDiffSliceMessage?: { seconds: number; rows: number };
  /** The slowest data-file message: seconds and rows audited. */
  maxDataFileMessage: { seconds: number; rows: number };
  /** The slowest key-range message: seconds and report keys held. */
  maxReconcileMessage: { seconds: number; keysHeld: number };
  /** The most report keys any key-range message held. */
  maxKeysHeld: number;
  /** Worker seconds of all data-file messages, per row. */
  dataFileMicrosPerRow: number;
  /** Seconds of one key-range message per report row it streams. */
  reconcileMicrosPerReportRow: number;
  peakHeapMb: number;
}

function dataFile(from: number, rows: number, deleted: Set<number>): Buffer {
  const lines: string[] = [];
  for (let i = from; i < from + rows; i++) {
    if (deleted.has(i)) continue;
    const etag = createHash('md5').update(String(i)).digest('hex');
    lines.push(`"${SOURCE}","logs/${String(i % 1000).padStart(3, '0')}/object-${i}.json","${1000 + (i % 7919)}","2026-11-30T01:02:03.000Z","${etag}","STANDARD","${STATUSES[i % STATUSES.length]}","DISABLED"`);
  }
  return gzipSync(`${lines.join('\n')}\n`);
}

/** A report whose files are gzip CSV bytes in memory, read by the product's CSV reader. */
function reportInMemory(rows: number, rowsPerFile: number, createdAt: Date, deleted: Set<number>): { report: InventoryReport; source: InventorySource } {
  const files: { file: InventoryDataFile; bytes: Buffer }[] = [];
  for (let from = 0; from < rows; from += rowsPerFile) {
    const bytes = dataFile(from, Math.min(rowsPerFile, rows - from), deleted);
    files.push({ file: { key: `reports/${SOURCE}/sseguard/data/${createdAt.getTime()}-${from}.csv.gz`, size: bytes.length, md5: createHash('md5').update(bytes).digest('hex') }, bytes });
  }
  const folder = createdAt.toISOString().slice(0, 16).replace(':', '-') + 'Z';
  const key = `reports/${SOURCE}/sseguard/${folder}/manifest.json`;
  const report: InventoryReport = {
    destination: { bucket: 'bench-reports', prefix: 'reports' },
    location: { configId: 'sseguard', folder, key, checksumKey: key.replace(/json$/, 'checksum') },
    manifest: { sourceBucket: SOURCE, destinationBucket: 'bench-reports', createdAt, format: 'CSV', columns: COLUMNS, fileSchema: COLUMNS.join(', '), files: files.map((f) => f.file) },
  };
  const source: InventorySource = {
    newest: async () => report,
    at: async () => report,
    async *rows(_report, file) {
      const { bytes } = files.find((f) => f.file.key === file.key)!;
      async function* body() {
        for (let at = 0; at < bytes.length; at += 8 << 20) yield bytes.subarray(at, at + (8 << 20));
      }
      yield* readCsvRows(body(), COLUMNS, { where: file.key, md5: file.md5 });
    },
    async *allRows(r) {
      for (const file of r.manifest.files) yield* source.rows(r, file);
    },
  };
  return { report, source };
}

/** The diff's result as Athena writes it: 1% of the rows changed (a new ETag), the deleted ones vanished. */
function diffResult(rows: number, deleted: Set<number>): Buffer {
  const quote = (v: string) => `"${v}"`;
  const lines = [diffResultColumns(COLUMNS).map(quote).join(',')];
  for (let i = 0; i < rows; i++) {
    const vanished = deleted.has(i);
    if (!vanished && i % 100 !== 7) continue;
    const etag = createHash('md5').update(`${i}${vanished ? '' : ' rewritten'}`).digest('hex');
    const cells = [SOURCE, `logs/${String(i % 1000).padStart(3, '0')}/object-${i}.json`, String(1000 + (i % 7919)), '2026-12-01T21:02:03.000Z', etag, 'STANDARD', STATUSES[i % STATUSES.length]!, 'DISABLED'];
    lines.push([...cells, vanished ? 'vanished' : 'changed'].map(quote).join(','));
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

async function runReport(rows: number, options: { rowsPerFile: number; rowsPerMessage: number; keysPerMessage: number; diff?: boolean; athenaRanges?: boolean }, deletedShare = 0.0002): Promise<MessageFigures> {
  const states = new Map<string, StoredFinding>();
  let sortedKeys: string[] | undefined;
  const progress = new Map<string, ReportProgress>();
  const markers = new Set<string>();
  /** Keys each reconciling step noted before removing them (noteRemoving). */
  const removing = new Map<string, Set<string>>();
  const checkpoints = new Map<string, InventoryFileCheckpoint & { sampleKeys: string[] }>();
  const queue: string[] = [];
  const policy = await loadPolicy(undefined, { resolve: async (ref: string) => ref } as never);
  let result: Buffer = Buffer.alloc(0);
  // --athena-ranges: what Athena answers for each range query, and the time spent making it (not the worker's).
  const rangeResults = new Map<string, Buffer>();
  let athenaMs = 0;
  let reportKeys: string[] | undefined;
  const rangeKeys: NonNullable<InventoryDiffSweepDependencies['rangeKeys']> = {
    prepare: async () => undefined,
    async start(report, range) {
      const started = performance.now();
      if (!reportKeys) {
        const keys = new Set<string>();
        for await (const row of current.source.allRows(report)) keys.add(row.key);
        reportKeys = [...keys].sort(compareKeys);
      }
      const id = `range-${range.index}`;
      const lines = ['"key"', ...reportKeys.filter((k) => inRange(k, range)).map((k) => `"${k.replace(/"/g, '""')}"`)];
      rangeResults.set(id, Buffer.from(`${lines.join('\n')}\n`));
      athenaMs += performance.now() - started;
      return id;
    },
    state: async (id) => ({ state: 'succeeded', result: { bucket: 'bench-results', key: id } }),
    stop: async () => undefined,
    async *resultBytes(file, from) {
      const bytes = rangeResults.get(file.key)!;
      for (let at = from; at < bytes.length; at += 1 << 20) yield bytes.subarray(at, Math.min(bytes.length, at + (1 << 20)));
    },
    deadlineMs: 1_800_000,
    pollSeconds: 0,
  };
  const deps: InventoryDiffSweepDependencies = {
    objects: { inspect: async (bucket, listed) => ({ status: 'unreadable', bucket, key: listed.key, reason: 'object-vanished', detail: 'gone' }) },
    keys: { lookup: async () => { throw new Error('no KMS row in this bench'); } } as never,
    policy,
    store: {
      async statesOf(_bucket, keys) {
        return new Map(keys.flatMap((k) => (states.has(k) ? [[k, states.get(k)!] as const] : [])));
      },
      async record(findings) {
        for (const f of findings) {
          // A new key re-sorts the index; a removed one is skipped when read (as DynamoDB's index would drop it).
          if (!f.removed && !states.has(f.key)) sortedKeys = undefined;
          if (f.removed) states.delete(f.key);
          else states.set(f.key, { ...f, firstSeen: f.auditedAt, lastSeen: f.auditedAt, rev: (states.get(f.key)?.rev ?? 0) + 1 });
        }
        return { undecided: [] };
      },
      async *findings(filter) {
        sortedKeys ??= [...states.keys()].sort(compareKeys);
        const range = filter?.keyRange ?? {};
        let page: StoredFinding[] = [];
        // As a Query of the bucket index does: from the range's start (a binary search), stopping at its end.
        let at = 0;
        for (let hi = sortedKeys.length; range.from !== undefined && at < hi; ) {
          const mid = (at + hi) >> 1;
          if (compareKeys(sortedKeys[mid]!, range.from) < 0) at = mid + 1;
          else hi = mid;
        }
        for (; at < sortedKeys.length; at++) {
          const key = sortedKeys[at]!;
          if (!inRange(key, range)) break;
          const state = states.get(key);
          if (!state) continue;
          page.push(state);
          if (page.length === 1000) {
            yield page;
            page = [];
          }
        }
        if (page.length > 0) yield page;
      },
    },
    inventory: () => current.source,
    progress: {
      fileDone: async (m, f) => markers.has(`${m}|${f}`),
      markFileDone: async (r, f) => {
        const p = progress.get(r.manifestKey) ?? { bucket: r.bucket, manifestKey: r.manifestKey, files: r.files, filesDone: 0 };
        if (!markers.has(`${r.manifestKey}|${f}`)) p.filesDone += 1;
        markers.add(`${r.manifestKey}|${f}`);
        progress.set(r.manifestKey, p);
        return p;
      },
      progress: async (_b, m) => progress.get(m),
      markReconcileQueued: async () => undefined,
      claimReconcile: async () => true,
      noteAbsent: async () => undefined,
      absentKeysPage: async () => ({ keys: [] }),
      carriedPageDone: async () => false,
      rangeSliceDone: async (m, i, slice) => markers.has(`${m}|range ${i} slice ${slice}`),
      markRangeSliceDone: async (_b, m, i, slice, removed) => {
        const p = progress.get(m)!;
        if (!markers.has(`${m}|range ${i} slice ${slice}`)) p.removed = (p.removed ?? 0) + removed;
        markers.add(`${m}|range ${i} slice ${slice}`);
      },
      markCarriedPageDone: async () => undefined,
      lastVerified: async () => undefined,
      chooseSweepMode: async (_b, _m, choice) => choice,
      markReconciled: async (_b, m, at, counted) => void Object.assign(progress.get(m)!, { reconciledAt: at, removed: counted.removed ?? 0 }),
      noteRemoving: async (m, step, keys) => void removing.set(`${m}|${step}`, new Set([...(removing.get(`${m}|${step}`) ?? []), ...keys])),
      async *removingKeys(m, step) {
        const keys = removing.get(`${m}|${step}`);
        if (keys) yield [...keys];
      },
      planPartitions: async (_b, m, n) => void Object.assign(progress.get(m)!, { partitions: n }),
      partitionDone: async (m, i) => markers.has(`${m}|range ${i}`),
      markPartitionDone: async (_b, m, i, removed) => {
        const p = progress.get(m)!;
        if (!markers.has(`${m}|range ${i}`)) Object.assign(p, { partitionsDone: (p.partitionsDone ?? 0) + 1, removed: (p.removed ?? 0) + removed });
        markers.add(`${m}|range ${i}`);
        return p;
      },
    },
    checkpoints: {
      read: async (m, f) => checkpoints.get(`${m}|${f}`) ?? { rowsDone: 0 },
      advance: async (m, f, from, to, _at, sample) => {
        const c = checkpoints.get(`${m}|${f}`) ?? { rowsDone: 0, sampleKeys: [] };
        if (c.rowsDone !== from) return false;
        c.rowsDone = to;
        if (sample !== undefined) c.sampleKeys.push(...sample);
        checkpoints.set(`${m}|${f}`, c);
        return true;
      },
      continuationSent: async (m, f, from) => {
        Object.assign(checkpoints.get(`${m}|${f}`)!, { continuationFrom: from });
        return true;
      },
      reportTotals: async (m) => {
        const mine = [...checkpoints].filter(([k]) => k.startsWith(`${m}|`)).map(([, c]) => c);
        return { rows: mine.reduce((a, c) => a + c.rowsDone, 0), sampleKeys: mine.flatMap((c) => c.sampleKeys) };
      },
    },
    absence: { mark: async () => true, clear: async () => true },
    queue: { sendToAuditQueue: async (bodies) => void queue.push(...bodies) },
    athena: { start: async () => 'q', state: async () => ({ state: 'running' }), stop: async () => undefined },
    async *resultBytes(_result, from) {
      for (let at = from; at < result.length; at += 8 << 20) yield result.subarray(at, Math.min(result.length, at + (8 << 20)));
    },
    diff: { deadlineMs: 1_800_000, pollSeconds: 0 },
    slices: { rowsPerMessage: options.rowsPerMessage, msPerMessage: Number.POSITIVE_INFINITY },
    keysPerReconcileMessage: options.keysPerMessage,
    // Each report audited the day it was made: its findings are older than the next report.
    clock: () => now,
  };
  let now = new Date('2026-12-01T12:00:00Z');

  // A first report records every object; the second (measured) lists all but a few deleted ones.
  let current = reportInMemory(rows, options.rowsPerFile, new Date('2026-12-01T01:00:00Z'), new Set());
  const drain = async (measure: boolean) => {
    const figures = { ranges: 0, maxRange: { seconds: 0, keys: 0 }, diffSlices: 0, maxSlice: { seconds: 0, rows: 0 }, dataFile: 0, reconcile: 0, maxData: { seconds: 0, rows: 0 }, maxReconcile: { seconds: 0, keysHeld: 0 }, maxKeysHeld: 0, dataSeconds: 0, reconcileRows: 0, reconcileSeconds: 0 };
    while (queue.length > 0) {
      const parsed = parseMessageBody(queue.shift()!);
      const started = performance.now();
      if (parsed.kind === 'inventory-file') {
        const result = await auditInventoryFile(deps, parsed.message);
        const seconds = (performance.now() - started) / 1000;
        const audited = result.rows ? result.rows.to - result.rows.from : 0;
        figures.dataFile += 1;
        figures.dataSeconds += seconds;
        if (seconds > figures.maxData.seconds) figures.maxData = { seconds, rows: audited };
      } else if (parsed.kind === 'inventory-diff' && parsed.message.step === 'slice') {
        const sliced = await auditInventoryDiffSlice(deps, parsed.message);
        const seconds = (performance.now() - started) / 1000;
        figures.diffSlices += 1;
        if (seconds > figures.maxSlice.seconds) figures.maxSlice = { seconds, rows: sliced.outcome === 'audited' ? sliced.rows : 0 };
      } else if (parsed.kind === 'inventory-reconcile' && parsed.message.partition && deps.rangeKeys) {
        const athenaBefore = athenaMs;
        const result = await reconcileInventoryReport(deps, parsed.message);
        const seconds = (performance.now() - started - (athenaMs - athenaBefore)) / 1000;
        figures.ranges += 1;
        if (seconds > figures.maxRange.seconds) figures.maxRange = { seconds, keys: result.keysListed ?? 0 };
        figures.maxKeysHeld = Math.max(figures.maxKeysHeld, result.keysListed ?? 0);
      } else if (parsed.kind === 'inventory-reconcile') {
        const result = await reconcileInventoryReport(deps, parsed.message);
        const seconds = (performance.now() - started) / 1000;
        figures.reconcile += 1;
        if (result.status === 'reconciled') {
          figures.reconcileRows += rows;
          figures.reconcileSeconds += seconds;
          if (seconds > figures.maxReconcile.seconds) figures.maxReconcile = { seconds, keysHeld: result.keysListed ?? 0 };
          figures.maxKeysHeld = Math.max(figures.maxKeysHeld, result.keysListed ?? 0);
        }
      }
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }
    return measure ? figures : undefined;
  };
  let peakHeap = 0;
  const enqueue = () => queue.push(...inventoryFileMessages(current.report).map((m) => JSON.stringify(m)));
  enqueue();
  await drain(false);
  const deleted = new Set(Array.from({ length: Math.ceil(rows * deletedShare) }, (_, i) => Math.floor((i * rows) / Math.ceil(rows * deletedShare))));
  current = reportInMemory(rows, options.rowsPerFile, new Date('2026-12-02T01:00:00Z'), deleted);
  now = new Date('2026-12-02T12:00:00Z');
  if (options.diff) {
    // What the poll that saw the query succeed sends: the first slice, every data file for the re-check only.
    result = diffResult(rows, deleted);
    const { report } = current;
    progress.set(report.location.key, { bucket: SOURCE, manifestKey: report.location.key, files: report.manifest.files.length + 1, filesDone: 0, sweepMode: 'athena', diffQueryId: 'q' });
    const previousKey = 'reports/bench-messages/sseguard/2026-12-01T01-00Z/manifest.json';
    queue.push(
      JSON.stringify({ kind: 'inventory-diff', step: 'slice', bucket: SOURCE, destination: report.destination, manifestKey: report.location.key, queryId: 'q', result: { bucket: 'bench-results', key: 'q.csv' }, fromByte: 0, previousManifestKey: previousKey, slice: 0 }),
      ...inventoryFileMessages(report, '2026-12-01T01:00:00.000Z').map((m) => JSON.stringify(m)),
    );
  } else {
    if (options.athenaRanges) deps.rangeKeys = rangeKeys;
    enqueue();
  }
  peakHeap = 0;
  const f = (await drain(true))!;
  if ((progress.get(current.report.location.key)?.removed ?? -1) !== deleted.size) throw new Error(`expected ${deleted.size} removals, got ${progress.get(current.report.location.key)?.removed}`);
  return {
    rows,
    files: current.report.manifest.files.length,
    messages: { dataFile: f.dataFile, reconcile: f.reconcile, ...(options.diff ? { diffSlices: f.diffSlices } : {}) },
    ...(options.athenaRanges ? { rangeMessages: f.ranges, maxRangeSliceMessage: { seconds: round(f.maxRange.seconds, 3), keys: f.maxRange.keys } } : {}),
    ...(options.diff ? { maxDiffSliceMessage: { seconds: round(f.maxSlice.seconds, 3), rows: f.maxSlice.rows } } : {}),
    maxDataFileMessage: { seconds: round(f.maxData.seconds, 3), rows: f.maxData.rows },
    maxReconcileMessage: { seconds: round(f.maxReconcile.seconds, 3), keysHeld: f.maxReconcile.keysHeld },
    maxKeysHeld: f.maxKeysHeld,
    dataFileMicrosPerRow: round((f.dataSeconds * 1e6) / rows, 2),
    reconcileMicrosPerReportRow: round((f.reconcileSeconds * 1e6) / Math.max(f.reconcileRows, 1), 2),
    peakHeapMb: round(peakHeap / 2 ** 20, 1),
  };
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Lambda-seconds and wall hours of one sweep of 1 billion objects from the larger run's per-row figures (worker CPU only). */
export function projectMessages(f: MessageFigures, keysPerMessage = DEFAULT_KEYS_PER_RECONCILE_MESSAGE, concurrency = 1000) {
  const dataFileSeconds = (f.dataFileMicrosPerRow * PROJECTED_OBJECTS) / 1e6;
  const ranges = Math.ceil(PROJECTED_OBJECTS / keysPerMessage);
  const reconcileMessageSeconds = (f.reconcileMicrosPerReportRow * PROJECTED_OBJECTS) / 1e6;
  return {
    objects: PROJECTED_OBJECTS,
    dataFileLambdaSeconds: Math.round(dataFileSeconds),
    reconcileRanges: ranges,
    reconcileSecondsPerMessage: Math.round(reconcileMessageSeconds),
    reconcileLambdaSeconds: Math.round(reconcileMessageSeconds * ranges),
    concurrency,
    wallHours: round((dataFileSeconds / concurrency + reconcileMessageSeconds * Math.ceil(ranges / concurrency)) / 3600, 2),
  };
}

export async function measureMessages(options: { rows: number[]; rowsPerFile: number; rowsPerMessage: number; keysPerMessage: number; diff?: boolean; athenaRanges?: boolean }): Promise<MessageFigures[]> {
  const results: MessageFigures[] = [];
  for (const rows of options.rows) results.push(await runReport(rows, options));
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '50000,500000' },
      'rows-per-file': { type: 'string', default: '50000' },
      'rows-per-message': { type: 'string', default: '10000' },
      'keys-per-message': { type: 'string', default: '50000' },
      diff: { type: 'boolean', default: false },
      'athena-ranges': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const options = {
    rows: values.rows.split(',').map(Number),
    rowsPerFile: Number(values['rows-per-file']),
    rowsPerMessage: Number(values['rows-per-message']),
    keysPerMessage: Number(values['keys-per-message']),
    diff: values.diff,
    athenaRanges: values['athena-ranges'],
  };
  const figures = await measureMessages(options);
  for (const f of figures) {
    console.log(
      `${f.rows} rows in ${f.files} files: ${f.messages.dataFile} data-file messages, max ${f.maxDataFileMessage.seconds} s / ${f.maxDataFileMessage.rows} rows; ` +
        `${f.messages.reconcile} reconcile messages, max ${f.maxReconcileMessage.seconds} s / ${f.maxReconcileMessage.keysHeld} keys held (at most ${f.maxKeysHeld} in one); ` +
        `${f.maxRangeSliceMessage ? `${f.rangeMessages} key-range messages from Athena, max ${f.maxRangeSliceMessage.seconds} s / ${f.maxRangeSliceMessage.keys} keys read; ` : ''}` +
        `${f.maxDiffSliceMessage ? `${f.messages.diffSlices} diff slice messages, max ${f.maxDiffSliceMessage.seconds} s / ${f.maxDiffSliceMessage.rows} rows; ` : ''}` +
        `${f.dataFileMicrosPerRow} µs/row audited, ${f.reconcileMicrosPerReportRow} µs per report row per range; peak heap ${f.peakHeapMb} MB`,
    );
  }
  const projection = projectMessages(figures.at(-1)!);
  console.log(`projected at 1e9 objects: ${JSON.stringify(projection)}`);
  if (values.json) console.log(JSON.stringify({ messages: figures, projection }));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
