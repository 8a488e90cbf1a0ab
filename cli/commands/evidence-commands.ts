// The options of `sseguard evidence` and `sseguard evidence verify`; the implementation
// (evidence.ts) is loaded when the command runs.
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '#shared/config.ts';
import type { EvidenceCommandOptions } from './evidence.ts';

const instant = (value: string): Date => {
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(at.getTime())) throw new InvalidArgumentError('expected an ISO 8601 time, e.g. 2026-09-30T23:59:59Z');
  return at;
};
const days = (value: string): number => {
  const match = /^(\d{1,4})d$/.exec(value);
  if (!match || Number(match[1]) < 1) throw new InvalidArgumentError('expected a number of days, e.g. 90d');
  return Number(match[1]);
};
const count = (max: number) => (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) > max) throw new InvalidArgumentError(`expected a whole number up to ${max}`);
  return Number(value);
};

/** Registers `evidence` and `evidence verify` on the program (one call in cli/main.ts). */
export function registerEvidenceCommands(program: Command, setExit: (code: number) => void, bucketName: (value: string) => string): void {
  const evidence = program
    .command('evidence')
    .description('write a signed, point-in-time evidence pack an auditor verifies offline (HTML, JSON, CSV, manifest)')
    .option('--out <dir>', 'folder to write the pack to (required)')
    .option('--as-of <time>', 'reconstruct the population as of this time from the history (default: now)', instant)
    .option('--window <days>', 'changes in this window before the as-of time', days, 90)
    .option('-b, --bucket <name...>', 'only these buckets (default: every bucket recorded or existing)', (value: string, previous: string[] = []) => [...previous, bucketName(value)])
    .option('--account <id...>', 'only findings of these accounts (findings that carry an account)')
    .option('--org', 'every account recorded in the findings table, grouped by account', false)
    .option('--sample <n>', 'draw N objects at random and re-check each live (HeadObject and its key)', count(10_000))
    .option('--seed <n>', 'with --sample: the seed to draw with (printed when not given)', count(2 ** 31 - 1))
    .option('--signing-key <key>', 'KMS ECC_NIST_P256 SIGN_VERIFY key that signs the manifest (default: $SSEGUARD_EVIDENCE_SIGNING_KEY)')
    .option('--policy <file>', 'policy whose exemptions are listed and which the sample is re-checked against (default: $SSEGUARD_POLICY)')
    .option('--json', 'print a JSON summary of the pack', false)
    // `evidence verify DIR --json` is verify's own --json, not the pack's.
    .enablePositionalOptions()
    .addHelpText('after', '\nExit codes: 0 pack written and nothing contradicts it, 1 written but a history chain is broken or a sampled object mismatches, 2 error.\n\nExample:\n  sseguard evidence --out evidence-2026-09 --as-of 2026-09-30T23:59:59Z --sample 25 --signing-key alias/sseguard-evidence')
    .action(async (options: EvidenceCommandOptions) => {
      const { evidenceCommand } = await import('./evidence.ts');
      setExit(await evidenceCommand(loadConfig(), options));
    });

  evidence
    .command('verify')
    .description('check a pack: every file against the manifest, the signature (offline), and the history chains')
    .argument('<dir>', 'the pack folder')
    .option('--kms', 'also ask KMS Verify with the key named in the manifest', false)
    .option('--json', 'print {pack, verified, problems} as one JSON document', false)
    .addHelpText('after', '\nExit codes: 0 everything holds, 1 a problem (one line each), 2 error.')
    .action(async (dir: string, options: { kms: boolean; json: boolean }) => {
      const { verifyCommand } = await import('./evidence.ts');
      setExit(await verifyCommand(dir, options));
    });
}
