// The sseguard CLI as a user runs it: a child process of bin/sseguard.js with the test's environment
// plus `env`, its exit code and both outputs.
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/sseguard.js', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** key → verdict of a `scan --json` document. */
export const verdictsOf = (stdout: string): Record<string, string> =>
  Object.fromEntries((JSON.parse(stdout).findings as { key: string; verdict: string }[]).map((f) => [f.key, f.verdict]));

export interface KillableRun {
  /** null when the process was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the CLI in its own process group, so that a test can kill it and everything it started (`process.kill(-pid)`). */
export function runKillableCli(args: string[], env: Record<string, string | undefined> = {}, onStart?: (pid: number) => void): Promise<KillableRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    onStart?.(child.pid!);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}
