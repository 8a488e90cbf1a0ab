// Handlers read their tables and queues from SST's links when deployed, from the environment
// otherwise (functions/commons/linked-config.ts).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { configFromLinks } from '../../functions/commons/linked-config.ts';

const env = { AWS_REGION: 'eu-west-1', SSEGUARD_SWEEP_BUCKETS: 'data' };
const links = {
  App: { name: 'sseguard', stage: 'production' },
  FindingsTable: { name: 'sseguard-production-FindingsTableTable-abc' },
  IdempotencyTable: { name: 'sseguard-production-IdempotencyTableTable-def' },
  AuditQueue: { url: 'https://sqs.eu-west-1.amazonaws.com/111122223333/AuditQueue' },
  AuditDeadLetterQueue: { url: 'https://sqs.eu-west-1.amazonaws.com/111122223333/AuditDeadLetterQueue' },
};

describe('linked configuration', () => {
  it('without SST links: the environment alone (CLI, emulator)', () => {
    expect(configFromLinks({}, env)).toMatchObject({ table: 'sseguard-findings', queue: 'sseguard-audit', deadLetterQueue: 'sseguard-audit-dlq', region: 'eu-west-1' });
  });

  it('with links: tables and queues from Resource, the rest from the environment', () => {
    expect(configFromLinks(links, env)).toMatchObject({
      table: links.FindingsTable.name,
      idempotencyTable: links.IdempotencyTable.name,
      queue: links.AuditQueue.url,
      deadLetterQueue: links.AuditDeadLetterQueue.url,
      region: 'eu-west-1',
      sweepBuckets: ['data'],
    });
  });

  it('a linked function missing a link fails at start, naming it', () => {
    const { AuditQueue: _, ...partial } = links;
    expect(() => configFromLinks(partial, env)).toThrow(/AuditQueue is not linked to this function/);
  });

  it('SST_RESOURCE_* variables reach the handlers’ runtime through sst/resource', () => {
    const script = "import { handlerRuntime } from '#commons/runtime.ts'; const { config } = handlerRuntime(); console.log(JSON.stringify(config));";
    const resourceEnv = Object.fromEntries(Object.entries(links).map(([name, value]) => [`SST_RESOURCE_${name}`, JSON.stringify(value)]));
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, ...env, ...resourceEnv },
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toMatchObject({ table: links.FindingsTable.name, queue: links.AuditQueue.url, idempotencyTable: links.IdempotencyTable.name });
    // A node process compiling TypeScript through tsx: generous, so a loaded machine does not fail it.
  }, 60_000);
});
