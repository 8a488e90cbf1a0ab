// Inventory parsing alone: rows per CPU-second and peak RSS for gzip CSV and Parquet data files of
// growing size. Each measurement runs in a fresh process (the reader is one async pipeline on one
// core), so its peak RSS is that file's alone: a streaming reader's stays flat as rows grow. Files are
// generated first, outside the measured process. Part of `npm run bench -- --only fleet`.
//   npx tsx bench/inventory-parse.ts [--rows 100000,1000000] [--formats csv,parquet] [--rounds 3] [--json]
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { readCsvRows } from '../shared/inventory/csv-reader.ts';
import { readParquetRows } from '../shared/inventory/parquet-reader.ts';
import { median, projectRoot, round } from './phase-runner.ts';

// The columns `sseguard inventory setup` asks for, in S3's order; keys URL-encoded as S3 writes them
// ("/" as %2F), so every key goes through the decoder.
const COLUMNS = ['Bucket', 'Key', 'Size', 'LastModifiedDate', 'ETag', 'StorageClass', 'IsMultipartUploaded', 'EncryptionStatus', 'BucketKeyStatus', 'ObjectLockLegalHoldStatus'];
const STATUSES = ['SSE-S3', 'SSE-KMS', 'DSSE-KMS', 'NOT-SSE', 'SSE-C'];
const PARQUET_ROW_GROUP = 131_072;

async function writeCsv(path: string, rows: number): Promise<void> {
  const gzip = createGzip({ level: 6 });
  const out = createWriteStream(path);
  gzip.pipe(out);
  let batch = '';
  for (let i = 0; i < rows; i++) {
    const status = STATUSES[i % STATUSES.length]!;
    batch += `"fleet","logs%2F2026%2F11%2F${i % 1000}%2Fobject-${i}.json.gz","${1000 + (i % 7919)}","2026-11-30T01:02:03.000Z","${(i * 2654435761).toString(16).padStart(32, '0').slice(-32)}","STANDARD","false","${status}","${status === 'SSE-KMS' ? 'ENABLED' : 'DISABLED'}","OFF"\n`;
    if (batch.length > 1 << 16) {
      if (!gzip.write(batch)) await once(gzip, 'drain');
      batch = '';
    }
  }
  gzip.end(batch);
  await once(out, 'close');
}

function writeParquet(path: string, rows: number): boolean {
  const python = join(projectRoot, '.venv', 'bin', 'python');
  if (!existsSync(python)) return false;
  const script = `
import sys, pyarrow as pa, pyarrow.parquet as pq
n = int(sys.argv[2]); st = ${JSON.stringify(STATUSES)}
writer = None
for start in range(0, n, ${PARQUET_ROW_GROUP}):
    idx = range(start, min(n, start + ${PARQUET_ROW_GROUP}))
    t = pa.table({
        "bucket": pa.array(["fleet"] * len(idx)),
        "key": pa.array([f"logs/2026/11/{i % 1000}/object-{i}.json.gz" for i in idx]),
        "size": pa.array([1000 + i % 7919 for i in idx], pa.int64()),
        "e_tag": pa.array([format(i * 2654435761, "032x")[-32:] for i in idx]),
        "storage_class": pa.array(["STANDARD"] * len(idx)),
        "encryption_status": pa.array([st[i % 5] for i in idx]),
        "bucket_key_status": pa.array(["ENABLED" if st[i % 5] == "SSE-KMS" else "DISABLED" for i in idx]),
    })
    writer = writer or pq.ParquetWriter(sys.argv[1], t.schema, compression="snappy")
    writer.write_table(t)
writer.close()
`;
  return spawnSync(python, ['-c', script, path, String(rows)], { stdio: 'inherit' }).status === 0;
}

export interface ParseMeasurement {
  format: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  cpuSeconds: number;
  /** Rows over this process's user + system CPU time: rows per second on one core, whatever else loads the machine. */
  rowsPerCpuSecond: number;
  peakRssMb: number;
  baselineRssMb: number;
}

/** In the child: parse the file, sampling RSS. */
async function measure(format: string, path: string): Promise<void> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  let rows = 0;
  if (format === 'csv') {
    for await (const _row of readCsvRows(createReadStream(path), COLUMNS, { where: path })) rows += 1;
  } else {
    const handle = await open(path);
    const { size } = await handle.stat();
    const file = {
      byteLength: size,
      async slice(start: number, end?: number) {
        const buffer = Buffer.alloc((end ?? size) - start);
        await handle.read(buffer, 0, buffer.length, start);
        return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length) as ArrayBuffer;
      },
    };
    for await (const _row of readParquetRows(file, path)) rows += 1;
    await handle.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const m: ParseMeasurement = {
    format,
    rows,
    seconds: round(seconds, 2),
    rowsPerSecond: Math.round(rows / seconds),
    cpuSeconds: round(cpuSeconds, 2),
    rowsPerCpuSecond: Math.round(rows / cpuSeconds),
    peakRssMb: round(peak / 2 ** 20),
    baselineRssMb: round(baseline / 2 ** 20),
  };
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

async function child(format: string, path: string): Promise<ParseMeasurement> {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', format, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = (await once(proc, 'close')) as [number];
  if (code !== 0) throw new Error(`measurement of ${path} failed (${code})`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as ParseMeasurement;
}

/** One format and size over several rounds: other processes load the cores, so best and median are both told. */
export interface ParseFigures {
  format: string;
  rows: number;
  rounds: number;
  bestRowsPerCpuSecond: number;
  medianRowsPerCpuSecond: number;
  medianRowsPerSecond: number;
  medianPeakRssMb: number;
  medianBaselineRssMb: number;
  runs: ParseMeasurement[];
}

export async function measureParsing(options: { rows: number[]; formats: string[]; rounds: number; log: (line: string) => void }): Promise<ParseFigures[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sseguard-parse-'));
  const figures: ParseFigures[] = [];
  try {
    for (const format of options.formats) {
      for (const rows of options.rows) {
        const path = join(dir, `${rows}.${format === 'csv' ? 'csv.gz' : 'parquet'}`);
        if (format === 'csv') await writeCsv(path, rows);
        else if (!writeParquet(path, rows)) {
          options.log('no .venv python with pyarrow: Parquet skipped (node scripts/ensure-deps.mjs installs it)');
          continue;
        }
        const runs: ParseMeasurement[] = [];
        for (let round = 0; round < options.rounds; round++) runs.push(await child(format, path));
        rmSync(path);
        const f: ParseFigures = {
          format,
          rows,
          rounds: options.rounds,
          bestRowsPerCpuSecond: Math.max(...runs.map((r) => r.rowsPerCpuSecond)),
          medianRowsPerCpuSecond: median(runs.map((r) => r.rowsPerCpuSecond)),
          medianRowsPerSecond: median(runs.map((r) => r.rowsPerSecond)),
          medianPeakRssMb: median(runs.map((r) => r.peakRssMb)),
          medianBaselineRssMb: median(runs.map((r) => r.baselineRssMb)),
          runs,
        };
        figures.push(f);
        options.log(`parse ${format.padEnd(7)} ${String(rows).padStart(9)} rows: ${f.medianRowsPerCpuSecond} rows/CPU-s median (best ${f.bestRowsPerCpuSecond}), peak RSS ${f.medianPeakRssMb} MB`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--child');
  if (childAt >= 0) return measure(process.argv[childAt + 1]!, process.argv[childAt + 2]!);
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '100000,1000000' },
      formats: { type: 'string', default: 'csv,parquet' },
      rounds: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
    },
  });
  const figures = await measureParsing({
    rows: values.rows.split(',').map(Number),
    formats: values.formats.split(','),
    rounds: Number(values.rounds),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  if (values.json) console.log(JSON.stringify({ parse: figures }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
