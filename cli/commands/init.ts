// `sseguard init`: creates the findings table on the configured endpoint; safe to run again.
import type { Config } from '#shared/config.ts';
import { ensureFindingsTable } from '#shared/findings/dynamodb-store.ts';
import { createRuntime } from '#shared/runtime.ts';

export async function initCommand(config: Config, log: (line: string) => void = console.log): Promise<number> {
  const { clients } = createRuntime(config);
  const outcome = await ensureFindingsTable(clients.dynamodb, config.table);
  const where = config.endpoint ?? `AWS ${config.region}`;
  log(outcome === 'created' ? `created table ${config.table} on ${where}` : `table ${config.table} already exists on ${where}`);
  return 0;
}
