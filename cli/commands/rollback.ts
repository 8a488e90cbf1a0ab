// `sseguard rollback`: prints (or, with --apply, performs) the undo of a posture change sseguard
// recorded: the exact previous default encryption or bucket policy.
import type { Writable } from 'node:stream';
import type { Config } from '#shared/config.ts';
import { PostureStore } from '#shared/findings/posture-store.ts';
import { S3BucketInspector } from '#shared/posture/bucket-inspector.ts';
import { applyRollback, rollbackCommands } from '#shared/posture/remediate.ts';
import { createRuntime } from '#shared/runtime.ts';
import { write } from '../output/stream.ts';
import { CliError } from '../vocabulary.ts';

export interface RollbackCommandOptions {
  bucket: string;
  /** A change id; without it, every recorded change of the bucket is listed with its undo. */
  change?: string;
  apply: boolean;
  force: boolean;
  json?: boolean;
}

export async function rollbackCommand(config: Config, options: RollbackCommandOptions, out: Writable = process.stdout): Promise<number> {
  const runtime = createRuntime(config);
  const store = new PostureStore(runtime.clients.documents, config.table);
  const changes = await store.changes(options.bucket);
  const chosen = options.change ? changes.filter((c) => c.id === options.change) : changes;
  if (chosen.length === 0) {
    throw new CliError(options.change ? `no recorded change ${options.change} for bucket ${options.bucket}` : `no recorded changes for bucket ${options.bucket}`);
  }
  if (options.apply) {
    if (chosen.length !== 1) throw new CliError('--apply needs --change <id>: roll back one change at a time');
    const change = chosen[0]!;
    await applyRollback(runtime.clients.s3, new S3BucketInspector(runtime.clients.s3, runtime.keys, config.region, runtime.bucketRegions), change, { force: options.force });
    await write(
      out,
      options.json
        ? `${JSON.stringify({ rolledBack: { id: change.id, bucket: change.bucket, kind: change.kind, at: change.at } })}\n`
        : `Rolled back change ${change.id}: the ${change.kind} of ${change.bucket} is as it was before ${change.at}.\n`,
    );
    return 0;
  }
  if (options.json) {
    const listed = [...chosen].reverse().map((c) => ({ id: c.id, at: c.at, bucket: c.bucket, kind: c.kind, fixes: c.fixes, undo: rollbackCommands(c) }));
    await write(out, `${JSON.stringify({ changes: listed })}\n`);
    return 0;
  }
  // Newest first: undo in reverse order of the changes.
  const text = [...chosen]
    .reverse()
    .map((c) => `# change ${c.id} at ${c.at}: ${c.kind} (fixed ${c.fixes.join(', ')})\n${rollbackCommands(c)}\n`)
    .join('\n');
  await write(out, text);
  return 0;
}
