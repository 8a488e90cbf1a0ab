// Endpoint configuration follows the SDK's conventions: AWS_ENDPOINT_URL_<SERVICE> wins over
// AWS_ENDPOINT_URL, so a user can keep DynamoDB on one emulator and S3/KMS on another.
import { createServer } from 'node:net';
import { beforeAll, expect, inject, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { createBucket, putObject } from '../support/aws-fixtures.ts';
import { runCli } from '../support/cli.ts';

const emulator = inject('emulatorEndpoint');

/** A port nothing listens on: connections to it are refused at once. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sseguard = (args: string[], env: Record<string, string | undefined> = {}) => runCli(args, { SSEGUARD_TABLE: 'endpoints-findings', ...env });

let serviceEndpoints: Record<string, string>;

beforeAll(async () => {
  const writer = createAwsClients();
  await createBucket(writer, 'per-service');
  await putObject(writer, 'per-service', 'a.txt', { mode: 'sse-s3' });
  serviceEndpoints = {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${await deadPort()}`,
    AWS_ENDPOINT_URL_S3: emulator,
    AWS_ENDPOINT_URL_KMS: emulator,
    AWS_ENDPOINT_URL_DYNAMODB: emulator,
    AWS_ENDPOINT_URL_SQS: emulator,
  };
});

test('AWS_ENDPOINT_URL on a dead port, every service-specific variable on the emulator: init, scan and report all work', async () => {
  const init = await sseguard(['init'], serviceEndpoints);
  expect(init.stderr).toBe('');
  expect(init.code).toBe(0);
  // init says where each service is, not "AWS" and not the dead global endpoint.
  expect(init.stdout).toContain(`created table endpoints-findings on ${emulator}`);
  expect(init.stdout).toContain(`S3 on ${emulator}, KMS on ${emulator}`);
  expect(init.stdout).not.toContain(serviceEndpoints.AWS_ENDPOINT_URL);

  const scan = await sseguard(['scan', '--bucket', 'per-service', '--json'], serviceEndpoints);
  expect(scan.stderr).toBe('');
  expect(scan.code).toBe(0);
  expect(JSON.parse(scan.stdout).summary).toMatchObject({ objects: 1, verdicts: { compliant: 1 } });

  const report = await sseguard(['report', '--format', 'json'], serviceEndpoints);
  expect(report.code).toBe(0);
  expect(JSON.parse(report.stdout).findings.map((f: { key: string }) => f.key)).toEqual(['a.txt']);
}, 120_000);

test('without the service-specific variables the dead global endpoint is used, and the error names it', async () => {
  const run = await sseguard(['scan', '--bucket', 'per-service'], { AWS_ENDPOINT_URL: serviceEndpoints.AWS_ENDPOINT_URL! });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(`cannot connect to ${serviceEndpoints.AWS_ENDPOINT_URL}`);
}, 60_000);
