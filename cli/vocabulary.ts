// The words every sseguard command shares: exit codes, how an error or a warning line starts, option
// values matched without regard to case, and deprecated spellings kept as hidden aliases. Commander
// only (no SDK): cli/main.ts and each command's options use it before any command is loaded.
import { InvalidArgumentError, Option, type Command } from 'commander';

/** The same in every command. */
export const EXIT = {
  /** Done, and everything is compliant (or exempt). */
  ok: 0,
  /** Done, and there is something to act on: findings, failed fixes or tasks. */
  findings: 1,
  /** Could not complete: usage, configuration, an AWS error, or a coverage gap (objects not audited, jobs still open). */
  error: 2,
} as const;

export const EXIT_CODES_HELP =
  'Exit codes (every command): 0 done and compliant, 1 findings or failures to act on,\n' +
  '  2 could not complete (usage or configuration error, AWS error, objects not audited, jobs still running).';

/** Every error line of every command starts with this. */
export const errorLine = (message: string) => `sseguard: error: ${message}`;
export const warningLine = (message: string) => `sseguard: warning: ${message}`;

/** An error a command reports in one line (no stack), with exit code 2 unless said otherwise. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
  }
}

/**
 * An option whose values are one of `choices`, matched without regard to case (`--format JSON`,
 * `--format parquet`); the command receives the value as `choices` spells it.
 */
export function choiceOption<T extends string>(flags: string, description: string, choices: readonly T[]): Option {
  return new Option(flags, description).choices(choices).argParser((value: string): T => {
    const match = choices.find((choice) => choice.toLowerCase() === value.toLowerCase());
    if (match === undefined) throw new InvalidArgumentError(`Allowed choices are ${choices.join(', ')}.`);
    return match;
  });
}

/**
 * Keeps an old spelling of an option working, hidden from --help, with a warning on stderr: its value
 * goes to the option now named `attribute` (e.g. `--id` → `inventoryId`).
 */
export function deprecatedAlias(command: Command, flags: string, attribute: string, instead: string): Command {
  const old = new Option(flags).hideHelp();
  command.addOption(old);
  command.on(`option:${old.name()}`, (value: string) => {
    console.error(warningLine(`${old.long} is deprecated: use ${instead}`));
    command.setOptionValueWithSource(attribute, value, 'cli');
  });
  return command;
}

/**
 * Commands without --json: those that only start something long-running (or a demo) and print no
 * data, and member-template, whose output is a CloudFormation document (JSON unless --out names YAML).
 */
export const COMMANDS_WITHOUT_DATA = ['serve', 'emulator', 'demo', 'member-template'] as const;
