// The argument handling of `npm run bench` (bench/run.ts), apart so that a unit test can check it
// without running a bench.

/** The arguments left for the scan bench (or the one bench named by --only): all but `--only <name>`. */
export function benchArgs(argv: readonly string[]): { only: string | undefined; rest: string[] } {
  const onlyIndex = argv.indexOf('--only');
  if (onlyIndex < 0) return { only: undefined, rest: [...argv] };
  return { only: argv[onlyIndex + 1], rest: argv.filter((_, i) => i !== onlyIndex && i !== onlyIndex + 1) };
}
