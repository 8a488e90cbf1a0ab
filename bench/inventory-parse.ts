// Inventory parsing at fleet scale: rows per second per core and peak RSS, for CSV (gzip) and
// Parquet data files of growing size. Each measurement runs in a fresh process (one core: the reader
// is a single async pipeline), so its peak RSS is that file's alone: a streaming reader's stays flat
// as rows grow. Files are generated first, outside the measured process.
//   npx tsx bench/fleet-bench.ts [--rows 100000,1000000] [--formats csv,parquet] [--json]
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { readCsvRows } from '../shared/inventory/csv-reader.ts';
import { readParquetRows } from '../shared/inventory/parquet-reader.ts';

const COLUMNS = ['Bucket', 'Key', 'Size', 'LastModifiedDate', 'ETag', 'StorageClass', 'IsMultipartUploaded', 'EncryptionStatus', 'BucketKeyStatus', 'ObjectLockLegalHoldStatus'];
const STATUSES = ['SSE-S3', 'SSE-KMS', 'DSSE-KMS', 'NOT-SSE', 'SSE-C'];
const root = fileURLToPath(new URL('..', import.meta.url));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

async function writeCsv(path: string, rows: number): Promise<void> {
  const gzip = createGzip({ level: 6 });
  const out = createWriteStream(path);
  gzip.pipe(out);
  let batch = '';
  for (let i = 0; i < rows; i++) {
    const status = STATUSES[i % STATUSES.length]!;
    batch += `"fleet","logs/2026/11/${i % 1000}/object-${i}.json.gz","${1000 + (i % 7919)}","2026-11-30T01:02:03.000Z","${(i * 2654435761).toString(16).padStart(32, '0').slice(-32)}","STANDARD","false","${status}","${status === 'SSE-KMS' ? 'ENABLED' : 'DISABLED'}","OFF"\n`;
    if (batch.length > 1 << 16) {
      if (!gzip.write(batch)) await once(gzip, 'drain');
      batch = '';
    }
  }
  gzip.end(batch);
  await once(out, 'close');
}

function writeParquet(path: string, rows: number): boolean {
  const python = join(root, '.venv', 'bin', 'python');
  if (!existsSync(python)) return false;
  const script = `
import sys, pyarrow as pa, pyarrow.parquet as pq
n = int(sys.argv[2]); st = ${JSON.stringify(STATUSES)}
writer = None
for start in range(0, n, 131072):
    idx = range(start, min(n, start + 131072))
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

interface Measurement {
  format: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMb: number;
  baselineRssMb: number;
}

/** In the child: parse the file, sampling RSS. */
async function measure(format: string, path: string): Promise<void> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = process.hrtime.bigint();
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
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const m: Measurement = { format, rows, seconds: round(seconds), rowsPerSecond: Math.round(rows / seconds), peakRssMb: round(peak / 2 ** 20), baselineRssMb: round(baseline / 2 ** 20) };
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

const round = (n: number) => Math.round(n * 10) / 10;

async function child(format: string, path: string): Promise<Measurement> {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', format, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = (await once(proc, 'close')) as [number];
  if (code !== 0) throw new Error(`measurement of ${path} failed (${code})`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as Measurement;
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--child');
  if (childAt >= 0) return measure(process.argv[childAt + 1]!, process.argv[childAt + 2]!);
  const sizes = arg('rows', '100000,1000000').split(',').map(Number);
  const formats = arg('formats', 'csv,parquet').split(',');
  const json = process.argv.includes('--json');
  const dir = mkdtempSync(join(tmpdir(), 'sseguard-fleet-'));
  const results: Measurement[] = [];
  try {
    for (const format of formats) {
      for (const rows of sizes) {
        const path = join(dir, `${rows}.${format === 'csv' ? 'csv.gz' : 'parquet'}`);
        if (format === 'csv') await writeCsv(path, rows);
        else if (!writeParquet(path, rows)) {
          console.error('fleet-bench: no .venv python with pyarrow: Parquet skipped (node scripts/ensure-deps.mjs installs it)');
          continue;
        }
        const m = await child(format, path);
        results.push(m);
        if (!json) console.log(`${format.padEnd(8)} ${String(rows).padStart(10)} rows  ${String(m.rowsPerSecond).padStart(9)} rows/s  peak RSS ${m.peakRssMb} MB (baseline ${m.baselineRssMb} MB)`);
        rmSync(path);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (json) console.log(JSON.stringify({ cpu: 'one core per measurement', results }));
}

await main();
