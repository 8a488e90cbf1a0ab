// A reader that closes the CLI's output early (`sseguard report | head`) is a normal end: exit 0 and
// no message, whatever the format. The CLI runs as a child process writing into a real pipe.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { createBucket, putObject } from '../support/aws-fixtures.ts';
import { reportFindings, seedReport } from '../support/report-fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/sseguard.js', import.meta.url));
const TABLE = 'cli-pipe-findings';
/** Each test spawns node + tsx, which takes seconds on a loaded machine. */
const SPAWN_TIMEOUT_MS = 120_000;

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function ended(child: ReturnType<typeof spawn>): Promise<Ended> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

const env = (): NodeJS.ProcessEnv => ({ ...process.env, SSEGUARD_TABLE: TABLE });

beforeAll(async () => {
  const clients = createAwsClients();
  await ensureFindingsTable(clients.dynamodb, TABLE);
  // Enough findings for several pages of output, so that writes follow the reader's exit.
  const findings = Array.from({ length: 8 }, (_, round) =>
    reportFindings().map((finding) => ({ ...finding, key: `round-${round}/${finding.key}` })),
  ).flat();
  await seedReport(new DynamoFindingsStore(clients.documents, TABLE), findings);
}, SPAWN_TIMEOUT_MS);

describe('a closed pipe ends the output quietly', () => {
  test.each(['table', 'csv', 'json'])(
    'sseguard report --format %s | head -n 1 → exit 0, nothing on stderr',
    async (format) => {
      // PIPESTATUS[0] is the CLI's own exit code, not head's.
      const child = spawn('bash', ['-c', `"${process.execPath}" "${BIN}" report --format ${format} | head -n 1 > /dev/null; exit "\${PIPESTATUS[0]}"`], {
        env: env(),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const result = await ended(child);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    },
    SPAWN_TIMEOUT_MS,
  );

  test('the reader closes its end before the first write → exit 0, no "write EPIPE"', async () => {
    const child = spawn(process.execPath, [BIN, 'report', '--format', 'csv'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.destroy();
    const result = await ended(child);
    expect(result).toEqual({ code: 0, signal: null, stderr: '' });
  }, SPAWN_TIMEOUT_MS);
});

describe('stderr carries only what sseguard says', () => {
  test('a scan on Node 20 prints no AWS SDK Node-version warning', async () => {
    const clients = createAwsClients();
    await createBucket(clients, 'quiet-scan');
    await putObject(clients, 'quiet-scan', 'a.txt', { mode: 'sse-s3' });
    // As a user's shell runs it: without the variable the test configuration sets for in-process tests.
    const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _set, ...userEnv } = env();
    const child = spawn(process.execPath, [BIN, 'scan', '--bucket', 'quiet-scan', '--no-record'], { env: userEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    const result = await ended(child);
    expect(result.stderr).not.toMatch(/NodeVersionSupportWarning|node >=22/);
    expect(result.code).toBe(0);
  }, SPAWN_TIMEOUT_MS);
});
