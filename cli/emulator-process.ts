// Starts and stops a local AWS emulator, on loopback only. Three engines:
// - moto (the default): moto server with sseguard's fidelity patches (emulator/server.py), from the
//   project-local virtual environment; S3, KMS, DynamoDB, SQS and EventBridge on one port.
// - localstack: LocalStack for S3, KMS, SQS and EventBridge, run without Docker in a Debian 13 chroot
//   (emulator/localstack/localstack.sh), plus moto for DynamoDB (LocalStack's DynamoDB is the vendor's
//   DynamoDB Local jar, which cannot be installed here); the SDK reaches each through the
//   service-specific endpoint variables (AWS_ENDPOINT_URL_DYNAMODB beside AWS_ENDPOINT_URL).
// - ministack: ministack (PyPI, MIT) for all five services on one port, a second opinion on
//   DynamoDB, SQS, EventBridge and the KMS lifecycle; never for S3 encryption semantics (its
//   UpdateObjectEncryption replaces the object's data).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINES, isEngine, type Engine } from './commands/emulator-engines.ts';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const venvPython = join(projectRoot, '.venv', 'bin', 'python');
const serverScript = join(projectRoot, 'emulator', 'server.py');
const localstackScript = join(projectRoot, 'emulator', 'localstack', 'localstack.sh');
const ministackDir = join(projectRoot, 'emulator', 'ministack');

export { ENGINES, isEngine, type Engine };

/** Where installs that are too big or too slow for the work tree are cached (the LocalStack chroot, ministack's venv). */
export function cacheDirectory(): string {
  return process.env.SSEGUARD_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sseguard');
}

export interface RunningEmulator {
  engine: Engine;
  /** The endpoint of the engine's gateway (for localstack: LocalStack's; DynamoDB is elsewhere, see `environment`). */
  endpoint: string;
  port: number;
  pid: number;
  /** The variables that point the AWS SDK at this emulator, dummy credentials included. */
  environment: Record<string, string>;
  /** POSTing to each of these forgets every resource the emulator holds (each engine's own reset endpoint; for localstack, DynamoDB's only). */
  resetUrls: string[];
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  engine?: Engine;
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

/** Whether something accepts connections on host:port (LocalStack's server would share a port silently). */
function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (inUse: boolean) => { socket.destroy(); resolve(inUse); };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** Forgets every resource the emulator holds: POSTs to each of its reset endpoints (RunningEmulator.resetUrls). */
export async function resetAll(urls: readonly string[]): Promise<void> {
  await Promise.all(urls.map(async (url) => {
    const response = await fetch(url, { method: 'POST' });
    if (!response.ok) throw new Error(`emulator reset failed: HTTP ${response.status} from ${url}`);
  }));
}

interface ServerSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Answers 200 once the server serves requests. */
  healthUrl: string;
  /** Also wait for this line in the server's output (LocalStack answers its health check before its services are up). */
  readyLine?: string;
  readyTimeoutMs: number;
  onOutput?: ((chunk: string) => void) | undefined;
}

interface ServerProcess {
  pid: number;
  stop(): Promise<void>;
}

/** Spawns one server process and waits until it is ready; on any failure it is killed and the error says why. */
async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  const { hostname, port } = new URL(spec.healthUrl);
  if (await portInUse(hostname, Number(port))) {
    throw new Error(`port ${port} on ${hostname} is already in use (another emulator?): stop what runs there or choose another --port`);
  }
  const child: ChildProcess = spawn(spec.command, spec.args, { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'], env: spec.env });
  let recentOutput = '';
  let sawReadyLine = spec.readyLine === undefined;
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    recentOutput = (recentOutput + text).slice(-4000);
    if (!sawReadyLine && recentOutput.includes(spec.readyLine!)) sawReadyLine = true;
    spec.onOutput?.(text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exitCode: number | null | undefined;
  let spawnError: Error | undefined;
  child.once('error', (error) => { spawnError = error; });
  const exited = new Promise<void>((resolve) => child.once('close', (code) => { exitCode = code; resolve(); }));

  const stop = async () => {
    if (exitCode !== undefined || spawnError) return;
    child.kill('SIGTERM');
    // LocalStack's wrapper kills its server and unmounts before it exits: give it the time to.
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + spec.readyTimeoutMs;
  while (!(sawReadyLine && (await answers(spec.healthUrl)))) {
    if (spawnError) throw new Error(`${spec.name} could not be started (${spec.command}): ${spawnError.message}`);
    if (exitCode !== undefined) {
      throw new Error(`${spec.name} exited (code ${exitCode}) before it was ready:\n${recentOutput}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${spec.name} did not answer on ${spec.healthUrl} within ${spec.readyTimeoutMs / 1000} s:\n${recentOutput}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { pid: child.pid ?? -1, stop };
}

const CREDENTIALS = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };

/**
 * The environment that points the AWS SDK at a single-endpoint emulator, with its dummy credentials
 * (a profile or session token from the caller's shell must not leak into requests to it).
 */
export function emulatorEnvironment(endpoint: string): Record<string, string> {
  return { AWS_ENDPOINT_URL: endpoint, ...CREDENTIALS };
}

/**
 * S3, KMS, SQS and EventBridge on one endpoint, DynamoDB on another: the SDK's service-specific
 * endpoint variables (AWS_ENDPOINT_URL_<SERVICE ID>) take precedence over AWS_ENDPOINT_URL.
 */
export function splitEnvironment(endpoint: string, dynamodbEndpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ENDPOINT_URL_KMS: endpoint,
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
    ...CREDENTIALS,
  };
}

/** Points this process's AWS SDK at the emulator (see emulatorEnvironment). */
export function useEmulator(endpoint: string, extra: Record<string, string> = {}): void {
  Object.assign(process.env, emulatorEnvironment(endpoint), extra);
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

/** Forgets every resource moto holds (moto's reset API). */
export async function resetEmulator(endpoint: string): Promise<void> {
  await resetAll([`${endpoint}/moto-api/reset`]);
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  switch (options.engine ?? 'moto') {
    case 'moto':
      return startMoto(options);
    case 'ministack':
      return startMinistack(options);
    case 'localstack':
      return startLocalstack(options);
  }
}

async function startMoto(options: EmulatorOptions): Promise<RunningEmulator> {
  if (!existsSync(venvPython)) {
    throw new Error(`the emulator is not installed (${venvPython} is missing): run "node scripts/ensure-deps.mjs"`);
  }
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 4566;
  const endpoint = `http://${host}:${port}`;
  const server = await startServer({
    name: 'the emulator (moto)',
    command: venvPython,
    args: [serverScript, '--host', host, '--port', String(port)],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
    healthUrl: `${endpoint}/moto-api/`,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    onOutput: options.onOutput,
  });
  return {
    engine: 'moto',
    endpoint,
    port,
    pid: server.pid,
    environment: emulatorEnvironment(endpoint),
    resetUrls: [`${endpoint}/moto-api/reset`],
    reset: () => resetEmulator(endpoint),
    stop: server.stop,
  };
}

/**
 * ministack's virtual environment, in the cache directory: installed (pip, pinned by
 * emulator/ministack/constraints.txt) when its stamp does not match the requirement files.
 */
export function ensureMinistack(log: (line: string) => void = (line) => console.error(line)): string {
  const venv = join(cacheDirectory(), 'ministack');
  const python = join(venv, 'bin', 'python');
  const requirements = join(ministackDir, 'requirements.txt');
  const constraints = join(ministackDir, 'constraints.txt');
  const want = createHash('sha256').update(readFileSync(requirements)).update(readFileSync(constraints)).digest('hex');
  const stamp = join(venv, '.sseguard-installed');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return join(venv, 'bin', 'ministack');
  log(`sseguard: installing ministack into ${venv} (pip)…`);
  try {
    mkdirSync(dirname(venv), { recursive: true });
    if (!existsSync(python)) execFileSync(process.env.PYTHON ?? 'python3', ['-m', 'venv', venv], { stdio: ['ignore', 'inherit', 'inherit'] });
    execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements, '-c', constraints], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  } catch (error) {
    throw new Error(`installing ministack into ${venv} failed: ${(error as Error).message}`);
  }
  writeFileSync(stamp, want);
  return join(venv, 'bin', 'ministack');
}

async function startMinistack(options: EmulatorOptions): Promise<RunningEmulator> {
  const executable = ensureMinistack();
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 4566;
  const endpoint = `http://${host}:${port}`;
  const server = await startServer({
    name: 'ministack',
    command: executable,
    args: [],
    // BIND_HOST defaults to 0.0.0.0; its IoT and SFTP side servers open more ports: off.
    env: { ...process.env, BIND_HOST: host, GATEWAY_PORT: String(port), SERVICES: 's3,kms,dynamodb,sqs,events',
      IOT_MTLS_ENABLED: '0', SFTP_ENABLED: '0', PYTHONUNBUFFERED: '1' },
    healthUrl: `${endpoint}/_ministack/health`,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    onOutput: options.onOutput,
  });
  return {
    engine: 'ministack',
    endpoint,
    port,
    pid: server.pid,
    environment: emulatorEnvironment(endpoint),
    resetUrls: [`${endpoint}/_ministack/reset`],
    reset: () => resetAll([`${endpoint}/_ministack/reset`]),
    stop: server.stop,
  };
}

/** Builds or reuses the LocalStack chroot (root, debootstrap, pip); throws with the failed step's message. */
export function ensureLocalstack(): void {
  try {
    execFileSync('bash', [localstackScript, 'install'], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (error) {
    throw new Error(`installing LocalStack failed (${localstackScript} install): ${(error as Error).message}`);
  }
}

async function startLocalstack(options: EmulatorOptions): Promise<RunningEmulator> {
  ensureLocalstack();
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new Error('LocalStack is only run on 127.0.0.1 here');
  const port = options.port ?? 4566;
  const endpoint = `http://${host}:${port}`;
  // DynamoDB stays on moto (LocalStack's needs the vendor's DynamoDB Local jar).
  const dynamodb = await startMoto({ ...options, port: await freePort(host) });
  let localstack: ServerProcess;
  try {
    localstack = await startServer({
      name: 'LocalStack',
      command: 'bash',
      args: [localstackScript, 'run', String(port)],
      env: { ...process.env },
      healthUrl: `${endpoint}/_localstack/health`,
      readyLine: 'Ready.',
      readyTimeoutMs: options.readyTimeoutMs ?? 90_000,
      onOutput: options.onOutput,
    });
  } catch (error) {
    await dynamodb.stop();
    throw error;
  }
  return {
    engine: 'localstack',
    endpoint,
    port,
    pid: localstack.pid,
    environment: splitEnvironment(endpoint, dynamodb.endpoint),
    // LocalStack's community edition has no reset endpoint (its state API is a paid feature): this
    // resets DynamoDB only; test/support/engines.ts empties LocalStack's side through the AWS API.
    resetUrls: dynamodb.resetUrls,
    reset: () => dynamodb.reset(),
    async stop() {
      await Promise.all([localstack.stop(), dynamodb.stop()]);
    },
  };
}
