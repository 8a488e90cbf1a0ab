// Every SDK client a handler makes carries Powertools' X-Ray middleware, added once where the
// clients are made (functions/commons/), so that S3, KMS, DynamoDB and SQS calls show in traces.
import { afterEach, describe, expect, it, vi } from 'vitest';

const XRAY = 'XRaySDKInstrumentation';
type Stacked = { middlewareStack: { identify(): string[] } };
const traced = (client: Stacked) => client.middlewareStack.identify().some((entry) => entry.startsWith(XRAY));

/** Imports the handlers' commons afresh under `env`: Tracer reads the environment when it is made. */
async function commonsUnder(env: Record<string, string | undefined>) {
  vi.resetModules();
  for (const [name, value] of Object.entries({ AWS_REGION: 'eu-west-1', ...env })) vi.stubEnv(name, value);
  const [{ handlerRuntime, resetHandlerRuntime }, { reportTable }] = await Promise.all([
    import('../../functions/commons/runtime.ts'),
    import('../../functions/commons/report-dependencies.ts'),
  ]);
  resetHandlerRuntime();
  return { clients: handlerRuntime().clients, report: reportTable().clients.documents };
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('traced SDK clients', () => {
  it('in Lambda: the S3, KMS, DynamoDB (and so the document client) and SQS clients are traced, once each', async () => {
    const { clients, report } = await commonsUnder({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'true' });
    for (const [name, client] of Object.entries(clients)) expect(traced(client as Stacked), name).toBe(true);
    expect(traced(report as unknown as Stacked), 'report API documents client').toBe(true);
    const count = (client: Stacked) => client.middlewareStack.identify().filter((entry) => entry.startsWith(XRAY)).length;
    expect(count(clients.s3 as unknown as Stacked)).toBe(1);
  });

  it('outside Lambda (tests, the CLI, sseguard invoke) the clients are left as they are', async () => {
    const { clients } = await commonsUnder({ AWS_EXECUTION_ENV: undefined });
    for (const [name, client] of Object.entries(clients)) expect(traced(client as Stacked), name).toBe(false);
  });
});
