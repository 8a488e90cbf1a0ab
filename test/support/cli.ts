// The sseguard CLI as a user runs it: a child process of bin/sseguard.js with the test's environment
// plus `env`, its exit code and both outputs.
import { execFile } from 'node:child_process';
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
