// The sseguard CLI as a user runs it against LocalStack: a child process with the environment
// test/support/reset-emulator.ts set (LocalStack for S3, KMS, SQS, EventBridge; DynamoDB on moto
// through AWS_ENDPOINT_URL_DYNAMODB).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/sseguard.js', import.meta.url));
const workdir = mkdtempSync(join(tmpdir(), 'sseguard-localstack-'));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function sseguard(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Writes `text` to a file of its own and returns its path (a policy, an event). */
export function file(name: string, text: string): string {
  const path = join(workdir, name);
  writeFileSync(path, text);
  return path;
}
