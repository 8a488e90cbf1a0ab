// The handlers' configuration: from SST's links when the function was deployed by the stacks
// (`Resource`: SST_RESOURCE_<Name> variables, or the encrypted resource file SST packages), else
// from the environment alone (CLI, `sseguard invoke`, the emulator). Links name the tables and
// queues; everything else (region, policy, sweep settings) comes from loadConfig() either way.
import { Resource } from 'sst/resource';
import { ConfigError, loadConfig, type Config } from '#shared/config.ts';

/** What stacks/storage.ts and stacks/queue.ts link, by name. */
export interface SseguardLinks {
  FindingsTable: { name: string };
  IdempotencyTable: { name: string };
  AuditQueue: { url: string };
  AuditDeadLetterQueue: { url: string };
}

const LINKED: Record<keyof SseguardLinks, 'name' | 'url'> = {
  FindingsTable: 'name',
  IdempotencyTable: 'name',
  AuditQueue: 'url',
  AuditDeadLetterQueue: 'url',
};

/** SST's `Resource` (or any record shaped like it): linked when it knows the app (`App`). */
export function configFromLinks(links: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Config {
  const base = loadConfig(env);
  if (!('App' in links)) return base;
  const value = (name: keyof SseguardLinks): string => {
    const link = name in links ? (links[name] as Record<string, unknown> | undefined) : undefined;
    const field = link?.[LINKED[name]];
    if (typeof field !== 'string' || field === '') {
      throw new ConfigError(`${name} is not linked to this function (expected Resource.${name}.${LINKED[name]}): check the stacks' link lists`);
    }
    return field;
  };
  return {
    ...base,
    table: value('FindingsTable'),
    idempotencyTable: value('IdempotencyTable'),
    queue: value('AuditQueue'),
    deadLetterQueue: value('AuditDeadLetterQueue'),
  };
}

export function linkedConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return configFromLinks(Resource as unknown as Record<string, unknown>, env);
}
