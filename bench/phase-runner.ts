// What the benches that measure in child processes share: run bench/phase.ts in a fresh Node
// process and read its result line, and the small statistics and table helpers of their reports.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PhaseName, PhaseResult } from './phase.ts';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

let currentChild: ChildProcess | undefined;

/** The phase process running now, if any (a bench stopped by a signal stops it too). */
export const runningPhase = (): ChildProcess | undefined => currentChild;

export interface PhaseRun {
  bucket: string;
  prefix: string;
  concurrency: number;
  table: string;
  /** s3://destination/prefix of the inventory reports (phase 'inventory'). */
  inventory?: string;
  /** Environment over this process's (an endpoint through the fault proxy, say). */
  env?: Record<string, string>;
}

/** Runs bench/phase.ts in a fresh Node process and returns its result line. */
export function runPhase(phase: PhaseName, options: PhaseRun): Promise<PhaseResult> {
  const args = ['--import', 'tsx', join(projectRoot, 'bench', 'phase.ts'), '--phase', phase, '--bucket', options.bucket,
    '--prefix', options.prefix, '--concurrency', String(options.concurrency), ...(options.inventory ? ['--inventory', options.inventory] : [])];
  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    env: { ...process.env, SSEGUARD_TABLE: options.table, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  currentChild = child;
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  // Shown only if the phase fails (on success it holds only the SDK's Node version notice).
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      currentChild = undefined;
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`phase ${phase} exited with ${signal ?? `code ${code}`}:\n${stderr.trim()}`));
      try {
        resolve(JSON.parse(line) as PhaseResult);
      } catch {
        reject(new Error(`phase ${phase} printed no result: ${stdout.slice(-500)}`));
      }
    });
  });
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Rows of cells as an aligned table: the first column left-aligned, the others right-aligned. */
export const table = (rows: string[][]): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
};
