import type { Command } from 'commander';
import { describe, expect, test } from 'vitest';
import { buildProgram } from '../../cli/main.ts';
import { COMMANDS_WITHOUT_DATA, choiceOption } from '../../cli/vocabulary.ts';

/** Every command a user can run, by its full name ("inventory setup"), from the program itself. */
function leafCommands(command: Command, prefix = ''): [string, Command][] {
  return command.commands.flatMap((sub) => {
    const name = `${prefix}${sub.name()}`;
    const own: [string, Command][] = sub.commands.length === 0 || sub.registeredArguments.length > 0 || sub.options.length > 0 ? [[name, sub]] : [];
    return [...own, ...leafCommands(sub, `${name} `)];
  });
}

describe('one vocabulary across commands', () => {
  const program = buildProgram(() => {});
  const commands = leafCommands(program);

  test('the program has the commands the README lists', () => {
    expect(commands.map(([name]) => name)).toEqual(
      expect.arrayContaining(['scan', 'jobs', 'report', 'init', 'serve', 'posture', 'rollback', 'invoke', 'emulator', 'emulator deliver-inventory', 'demo', 'inventory setup', 'plan']),
    );
  });

  test('every command that prints data takes --json (a new command without it fails here)', () => {
    const printsData = commands.filter(([name]) => !(COMMANDS_WITHOUT_DATA as readonly string[]).includes(name));
    const without = printsData.filter(([, command]) => !command.options.some((option) => option.long === '--json')).map(([name]) => name);
    expect(without).toEqual([]);
  });

  test('-p/--prefix is a key prefix wherever it is shown', () => {
    for (const [name, command] of commands) {
      const prefix = command.options.find((option) => option.long === '--prefix' && !option.hidden);
      if (prefix) expect(`${name}: ${prefix.description}`).toMatch(/key|keys/);
    }
  });

  test('the inventory configuration id has one name, --inventory-id', () => {
    const visible = commands.flatMap(([name, command]) => command.options.filter((o) => !o.hidden && /^--(id|inventory-id)$/.test(o.long ?? '')).map((o) => `${name} ${o.long}`));
    expect(visible.sort()).toEqual(['emulator deliver-inventory --inventory-id', 'inventory setup --inventory-id', 'plan --inventory-id', 'scan --inventory-id']);
  });

  test('choice values are matched without regard to case and passed on as spelled', () => {
    const option = choiceOption('--format <format>', 'format', ['CSV', 'Parquet'] as const);
    expect(option.parseArg?.('parquet', undefined)).toBe('Parquet');
    expect(option.parseArg?.('csv', undefined)).toBe('CSV');
    expect(() => option.parseArg?.('orc', undefined)).toThrow('Allowed choices are CSV, Parquet.');
  });
});
