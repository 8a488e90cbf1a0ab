// The emulators `sseguard emulator --engine` and the tests can start (cli/emulator-process.ts starts
// them); a module of its own so that the CLI's option parsing loads nothing else.
export const ENGINES = ['moto', 'localstack', 'ministack'] as const;
export type Engine = (typeof ENGINES)[number];

export function isEngine(value: string): value is Engine {
  return (ENGINES as readonly string[]).includes(value);
}
