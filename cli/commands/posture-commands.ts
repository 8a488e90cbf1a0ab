// The options of `sseguard posture` and `sseguard rollback`; each command's implementation
// (posture.ts, rollback.ts) is loaded when it runs, so that the command line starts without them.
import type { Command } from 'commander';
import { loadConfig } from '#shared/config.ts';
import type { PostureCommandOptions } from './posture.ts';

/** Registers `posture` and `rollback` on the program (one call in cli/main.ts). */
export function registerPostureCommands(program: Command, setExit: (code: number) => void, bucketName: (value: string) => string): void {
  program
    .command('posture')
    .description("audit a bucket's own encryption posture: default encryption, SSE-C blocking, TLS-only and encrypted-upload policy")
    .requiredOption('-b, --bucket <name>', 'bucket to audit', bucketName)
    .option('--policy <file>', 'policy file, JSON or YAML (default: $SSEGUARD_POLICY)')
    .option('--remediate', "fix what the policy's rule asks (remediate: true): default encryption, SSE-C block, TLS deny", false)
    .option('--dry-run', 'show the exact changes --remediate would make (policy diff included) without making them', false)
    .option('--json', 'print one JSON document', false)
    .option('--no-record', 'do not write the finding or the changes to the table')
    .addHelpText('after', '\nExample:\n  sseguard posture --bucket my-bucket --dry-run')
    .action(async (options: PostureCommandOptions) => {
      const { postureCommand } = await import('./posture.ts');
      // --dry-run alone shows what --remediate would change: it needs no --remediate beside it.
      setExit(await postureCommand(loadConfig(), { ...options, remediate: options.remediate || options.dryRun }));
    });

  program
    .command('rollback')
    .description('print the AWS CLI commands that undo posture changes sseguard recorded (or --apply one)')
    .requiredOption('-b, --bucket <name>', 'bucket whose changes to undo', bucketName)
    .option('--change <id>', 'one recorded change (default: every change of the bucket, newest first)')
    .option('--apply', 'restore the previous value now (needs --change)', false)
    .option('--force', 'with --apply: restore even if the value changed again since sseguard changed it', false)
    .option('--json', 'print one JSON document', false)
    .action(async (options: { bucket: string; change?: string; apply: boolean; force: boolean; json: boolean }) => {
      const { rollbackCommand } = await import('./rollback.ts');
      setExit(await rollbackCommand(loadConfig(), options));
    });
}
