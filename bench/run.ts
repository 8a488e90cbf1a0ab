// `npm run bench`: the scan benchmark, then remediation throughput, then the report API's
// latency, each in its own process on its own emulator. With --json the last line of stdout is one
// JSON object: the scan's figures at the top level (objects, concurrency, scanPerSec,
// headLoopPerSec, ratio, cpuUsPerObject, cpuRatio, callsPerObject, peakRssMb, …) plus `remediation`, `report`, `faults` (and `fleet` with --only fleet).
//   npm run bench -- [--only scan|remediation|report|faults|fleet|org|evidence|delivery] [--json] [options of the scan bench, or of the one named by --only]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './args.ts';

const BENCHES = {
  scan: 'scan-bench.ts',
  remediation: 'remediation-bench.ts',
  report: 'report-bench.ts',
  faults: 'fault-bench.ts',
  fleet: 'fleet-bench.ts',
  org: 'org-bench.ts',
  evidence: 'evidence-bench.ts',
  delivery: 'push-bench.ts',
} as const;
/** Run only when named with --only: fleet and org seed 50,000 objects and take minutes; evidence is in memory. */
const OPT_IN: readonly BenchName[] = ['fleet', 'org', 'evidence', 'delivery'];
type BenchName = keyof typeof BENCHES;

const HELP = `Usage: npm run bench -- [--only scan|remediation|report|faults|fleet|org|evidence|delivery] [--json] [options]
Runs bench/scan-bench.ts (options such as --objects and --concurrency go to it), then
bench/remediation-bench.ts, bench/report-bench.ts and bench/fault-bench.ts (throttling at 0/10/30%).
--only evidence runs bench/evidence-bench.ts alone (evidence pack generation per million findings, in memory);
--only fleet runs bench/fleet-bench.ts alone (inventory sweeps against the HEAD sweep at 50,000 objects;
options such as --objects go to it); it is not part of the default run. --only org runs
bench/org-bench.ts alone (a sweep of 20 accounts through their roles against one account's scan). --only delivery
runs bench/push-bench.ts alone (the outbox write and the push per changed finding; --findings N). --help of each: npx tsx bench/<file> --help`;

function run(name: BenchName, args: string[]): Promise<{ code: number; lastLine: string }> {
  return new Promise((resolve, reject) => {
    const script = fileURLToPath(new URL(BENCHES[name], import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!args.includes('--json')) process.stdout.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 2, lastLine: stdout.trim().split('\n').at(-1) ?? '' }));
  });
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    console.log(HELP);
    return 0;
  }
  const json = argv.includes('--json');
  // Without --only, every argument goes on (an index of -1 once dropped the first one, --json).
  const { only, rest: scanArgs } = benchArgs(argv);
  if (only !== undefined && !(only in BENCHES)) {
    console.error(`bench: --only takes one of ${Object.keys(BENCHES).join(', ')}`);
    return 2;
  }
  const selected = (only ? [only] : Object.keys(BENCHES).filter((name) => !OPT_IN.includes(name as BenchName))) as BenchName[];
  const results: Partial<Record<BenchName, unknown>> = {};
  for (const name of selected) {
    // Options go to the scan bench, or to the one bench named with --only.
    const args = name === 'scan' || name === only ? scanArgs : json ? ['--json'] : [];
    const { code, lastLine } = await run(name, args);
    if (code !== 0) {
      console.error(`bench: ${name} failed (exit ${code})`);
      return 2;
    }
    if (json) results[name] = JSON.parse(lastLine);
  }
  if (json) {
    const { scan, remediation, report, faults, fleet, delivery } = results as Record<BenchName, Record<string, unknown> | undefined>;
    console.log(
      JSON.stringify({
        ...(scan ?? {}),
        ...(remediation ? { remediation: remediation.remediation } : {}),
        ...(report ? { report } : {}),
        ...(faults ? { faults: faults.faults } : {}),
        ...(fleet ? { fleet: fleet.fleet } : {}),
        ...(delivery ? { delivery: delivery.delivery } : {}),
      }),
    );
  }
  return 0;
}

// exitCode, not process.exit: stdout may be a pipe still holding the JSON line; exiting at once cuts it.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`bench: error: ${(error as Error).message}`);
    process.exitCode = 2;
  },
);
