// Starts and stops the local AWS emulator: moto server with sseguard's fidelity patches
// (emulator/server.py), run from the project-local virtual environment on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const venvPython = join(projectRoot, '.venv', 'bin', 'python');
const serverScript = join(projectRoot, 'emulator', 'server.py');

export interface RunningEmulator {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  port?: number;
  host?: string;
  /** How long to wait for the server to answer before giving up. */
  readyTimeoutMs?: number;
  /** Where the server's own output goes; by default it is kept only for error messages. */
  onOutput?: (chunk: string) => void;
}

/** Asks the OS for a free loopback port. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function isHealthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  if (!existsSync(venvPython)) {
    throw new Error(`the emulator is not installed (${venvPython} is missing): run "node scripts/ensure-deps.mjs"`);
  }
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 4566;
  const endpoint = `http://${host}:${port}`;
  if (await isHealthy(endpoint)) {
    throw new Error(`port ${port} already answers as an emulator: stop it or choose another --port`);
  }

  const child: ChildProcess = spawn(venvPython, [serverScript, '--host', host, '--port', String(port)], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let recentOutput = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    recentOutput = (recentOutput + text).slice(-4000);
    options.onOutput?.(text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  let exitCode: number | null | undefined;
  void exited.then((code) => { exitCode = code; });
  while (!(await isHealthy(endpoint))) {
    if (exitCode !== undefined) {
      throw new Error(`the emulator exited (code ${exitCode}) before it was ready:\n${recentOutput}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the emulator did not answer on ${endpoint} in time:\n${recentOutput}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    endpoint,
    port,
    pid: child.pid ?? -1,
    async stop() {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The environment that points the AWS SDK at the emulator, with its dummy credentials (a profile
 * or session token from the caller's shell must not leak into requests to it).
 */
export function emulatorEnvironment(endpoint: string): Record<string, string> {
  return { AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
}

/** Points this process's AWS SDK at the emulator (see emulatorEnvironment). */
export function useEmulator(endpoint: string, extra: Record<string, string> = {}): void {
  Object.assign(process.env, emulatorEnvironment(endpoint), extra);
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

/** Forgets every resource the emulator holds (moto's reset API). */
export async function resetEmulator(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`emulator reset failed: HTTP ${response.status}`);
}
