// `npm run bench`: seeds N objects (mixed modes, several keys) on a private emulator, then measures
// the scan against a bare HeadObject loop at the same concurrency, each in a fresh child process
// (bench/phase.ts), alternately for a few rounds, and checks the targets. A report: exit 0 even
// when a target fails; exit 2 when the benchmark itself cannot run.
import { parseArgs } from 'node:util';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { createAwsClients } from '#shared/aws/clients.ts';
import { freePort, startEmulator, type RunningEmulator, useEmulator } from '../cli/emulator-process.ts';
import type { PhaseResult } from './phase.ts';
import { median, round, runningPhase, runPhase as runPhaseIn, table } from './phase-runner.ts';
import { TENTH_PREFIX, seedBucket, type SeedResult } from './seed.ts';

const BUCKET = 'sseguard-bench';
const SEED_CONCURRENCY = 32;
/** Peak RSS of the full scan over that of the tenth-size scan; see the note printed with it. */
const RSS_RATIO_LIMIT = 1.25;
const RATE_RATIO_TARGET = 0.8;
/**
 * The scan's CPU per object over the bare loop's: below 2, what the scan adds to the HeadObject
 * (listing, evaluation, recording) costs this process less than the HeadObject itself.
 */
const CPU_RATIO_LIMIT = 2;

const HELP = `Usage: npm run bench -- [options]

Seeds a bucket on a private emulator with N objects (SSE-S3, SSE-KMS over 4 customer keys, one of
them disabled afterwards, DSSE-KMS, aws:kms with the AWS-managed key, a few SSE-C), then measures,
each in a fresh process and alternately for several rounds:
  bare loop   HeadObject on every key at concurrency C (keys listed beforehand, untimed)
  first scan  scanBucket into an empty findings table (writes every state and history entry)
  re-scan     the same scan again (the steady state: every state is rewritten, no history)
  no-record   the scan without the findings store (what recording costs)
  tenth scan  a first scan of the prefix holding N/10 objects (for memory flat in N)
and prints objects/s (median over rounds), the scan/bare ratio, CPU µs per object of each phase's
process (user + system) beside the bare loop's, API calls per object by operation, peak RSS, and
PASS/FAIL for each target.

Options:
  --objects N       objects to seed (default 10000, at least 10)
  --concurrency C   concurrency of the scan and of the bare loop, also the SDK's maxSockets (default 16)
  --rounds R        measurement rounds; medians are reported (default 3)
  --json            print one JSON object as the last line of stdout
  -h, --help        this help

Progress goes to stderr. Exit status: 0 when the benchmark ran (even if a target failed), 2 on errors.`;

class UsageError extends Error {}

interface Options {
  objects: number;
  concurrency: number;
  rounds: number;
  json: boolean;
}

function parseOptions(argv: string[]): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        objects: { type: 'string' },
        concurrency: { type: 'string' },
        rounds: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const whole = (name: string, text: string | undefined, fallback: number, min: number, max: number) => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
    }
    return value;
  };
  return {
    objects: whole('objects', values.objects, 10_000, 10, 1_000_000),
    concurrency: whole('concurrency', values.concurrency, 16, 1, 1024),
    rounds: whole('rounds', values.rounds, 3, 1, 20),
    json: values.json ?? false,
  };
}

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

/** The run with the median rate (the lower middle one for an even count). */
const medianRun = (results: PhaseResult[]): PhaseResult =>
  [...results].sort((a, b) => a.perSec - b.perSec)[Math.floor((results.length - 1) / 2)]!;
const runPhase = (phase: 'head' | 'scan' | 'scan-no-record', options: { prefix: string; concurrency: number; table: string }) =>
  runPhaseIn(phase, { bucket: BUCKET, ...options });
const medianOf = (results: PhaseResult[], pick: (r: PhaseResult) => number) => median(results.map(pick));

/** Calls per object by operation, from the median run's counts (the counts are the same every round). */
function callsPerObject(result: PhaseResult): Record<string, number> {
  const perObject: Record<string, number> = {};
  for (const [op, count] of Object.entries(result.calls).sort()) perObject[op] = round(count / result.objects, 4);
  return perObject;
}

interface Target {
  name: string;
  pass: boolean;
  actual: string;
  wanted: string;
}

interface CpuRatios {
  scan: number;
  rescan: number;
}

function checkTargets(options: Options, seed: SeedResult, scans: PhaseResult[], ratio: number, rescanRatio: number, rssRatio: number, cpu: CpuRatios): Target[] {
  const worst = (pick: (r: PhaseResult) => number) => Math.max(...scans.map(pick));
  const best = (pick: (r: PhaseResult) => number) => Math.min(...scans.map(pick));
  const heads = [best((r) => (r.calls.HeadObject ?? 0) - r.objects), worst((r) => (r.calls.HeadObject ?? 0) - r.objects)];
  const listLimit = Math.ceil(options.objects / 1000);
  const lists = worst((r) => r.calls.ListObjectsV2 ?? 0);
  const describes = worst((r) => r.calls.DescribeKey ?? 0);
  const audited = scans.every((r) => r.objects === options.objects);
  return [
    { name: 'every object audited', pass: audited, actual: scans.map((r) => r.objects).join(', '), wanted: `${options.objects} per scan` },
    { name: 'HeadObject per object', pass: heads[0] === 0 && heads[1] === 0, actual: heads[0] === 0 && heads[1] === 0 ? '1' : `off by ${heads.join('..')}`, wanted: 'exactly 1' },
    { name: 'ListObjectsV2 calls', pass: lists <= listLimit, actual: String(lists), wanted: `≤ ceil(N/1000) = ${listLimit}` },
    { name: 'DescribeKey calls', pass: describes <= seed.distinctKmsKeys, actual: String(describes), wanted: `≤ ${seed.distinctKmsKeys} distinct keys` },
    { name: 'first scan / bare loop', pass: ratio >= RATE_RATIO_TARGET, actual: ratio.toFixed(2), wanted: `≥ ${RATE_RATIO_TARGET}` },
    { name: 're-scan / bare loop', pass: rescanRatio >= RATE_RATIO_TARGET, actual: rescanRatio.toFixed(2), wanted: `≥ ${RATE_RATIO_TARGET}` },
    { name: 'first scan CPU / bare loop CPU', pass: cpu.scan < CPU_RATIO_LIMIT, actual: cpu.scan.toFixed(2), wanted: `< ${CPU_RATIO_LIMIT} (recording and evaluation cost less than the HeadObject)` },
    { name: 're-scan CPU / bare loop CPU', pass: cpu.rescan < CPU_RATIO_LIMIT, actual: cpu.rescan.toFixed(2), wanted: `< ${CPU_RATIO_LIMIT}` },
    { name: 'peak RSS N / (N/10)', pass: rssRatio <= RSS_RATIO_LIMIT, actual: rssRatio.toFixed(2), wanted: `≤ ${RSS_RATIO_LIMIT}` },
  ];
}

async function deleteTable(name: string): Promise<void> {
  const clients = createAwsClients();
  try {
    await clients.dynamodb.send(new DeleteTableCommand({ TableName: name }));
  } finally {
    clients.dynamodb.destroy();
  }
}

async function bench(options: Options, emulator: RunningEmulator): Promise<void> {
  const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  log(`emulator on ${emulator.endpoint} (pid ${emulator.pid}); seeding ${options.objects} objects at concurrency ${SEED_CONCURRENCY}…`);
  const seedClients = createAwsClients({ maxSockets: SEED_CONCURRENCY });
  const seed = await seedBucket(seedClients, {
    bucket: BUCKET,
    objects: options.objects,
    concurrency: SEED_CONCURRENCY,
    onProgress: (done) => log(`  seeded ${done}/${options.objects}`),
  });
  seedClients.s3.destroy();
  seedClients.kms.destroy();
  log(`seeded ${seed.objects} objects in ${seed.seconds.toFixed(1)} s (${round(seed.objects / seed.seconds)} PutObject/s, not measured)`);

  const heads: PhaseResult[] = [];
  const firstScans: PhaseResult[] = [];
  const rescans: PhaseResult[] = [];
  const noRecordScans: PhaseResult[] = [];
  const tenthScans: PhaseResult[] = [];
  const { concurrency } = options;
  const show = (label: string, r: PhaseResult) =>
    log(`  ${label.padEnd(10)} ${String(r.objects).padStart(7)} objects in ${r.seconds.toFixed(2)} s = ${r.perSec} /s, CPU ${r.cpuUsPerObject} µs/object, peak RSS ${r.peakRssMb} MB`);
  for (let i = 1; i <= options.rounds; i++) {
    log(`round ${i}/${options.rounds}`);
    // A fresh table per round: the first scan writes every object, the re-scan rewrites them.
    const full = `sseguard-bench-${i}`;
    const tenth = `sseguard-bench-${i}-tenth`;
    heads.push(await runPhase('head', { prefix: '', concurrency, table: full }));
    show('bare loop', heads.at(-1)!);
    firstScans.push(await runPhase('scan', { prefix: '', concurrency, table: full }));
    show('first scan', firstScans.at(-1)!);
    rescans.push(await runPhase('scan', { prefix: '', concurrency, table: full }));
    show('re-scan', rescans.at(-1)!);
    noRecordScans.push(await runPhase('scan-no-record', { prefix: '', concurrency, table: full }));
    show('no-record', noRecordScans.at(-1)!);
    tenthScans.push(await runPhase('scan', { prefix: TENTH_PREFIX, concurrency, table: tenth }));
    show('tenth scan', tenthScans.at(-1)!);
    // Keep the emulator's state the same size every round.
    await deleteTable(full);
    await deleteTable(tenth);
  }

  const headPerSec = medianOf(heads, (r) => r.perSec);
  const scanPerSec = medianOf(firstScans, (r) => r.perSec);
  const rescanPerSec = medianOf(rescans, (r) => r.perSec);
  const ratio = round(scanPerSec / headPerSec, 3);
  const rescanRatio = round(rescanPerSec / headPerSec, 3);
  const peakRssMb = medianOf(firstScans, (r) => r.peakRssMb);
  const peakRssMbAtTenth = medianOf(tenthScans, (r) => r.peakRssMb);
  const rssRatio = round(peakRssMb / peakRssMbAtTenth, 3);
  const cpuUsPerObject = {
    headLoop: medianOf(heads, (r) => r.cpuUsPerObject),
    scan: medianOf(firstScans, (r) => r.cpuUsPerObject),
    rescan: medianOf(rescans, (r) => r.cpuUsPerObject),
    noRecord: medianOf(noRecordScans, (r) => r.cpuUsPerObject),
  };
  const cpuVsBare = (value: number) => round(value / Math.max(cpuUsPerObject.headLoop, 0.1), 3);
  const cpuRatio = cpuVsBare(cpuUsPerObject.scan);
  const rescanCpuRatio = cpuVsBare(cpuUsPerObject.rescan);
  const targets = checkTargets(options, seed, [...firstScans, ...rescans], ratio, rescanRatio, rssRatio, { scan: cpuRatio, rescan: rescanCpuRatio });
  const noRecordPerSec = medianOf(noRecordScans, (r) => r.perSec);
  // Call counts are the same every round; call times are taken from the median round.
  const first = medianRun(firstScans);
  const again = medianRun(rescans);
  const firstCalls = callsPerObject(first);
  const rescanCalls = callsPerObject(again);

  const out: string[] = [];
  out.push(`$ ${command}`);
  out.push(`${options.objects} objects (${Object.entries(seed.byMode).map(([m, n]) => `${m} ${n}`).join(', ')}), ` +
    `${seed.distinctKmsKeys} KMS keys (1 customer key disabled), concurrency ${concurrency}, median of ${options.rounds} round(s)`);
  out.push('Each phase runs in a fresh Node process; the emulator (one Python process) shares this machine\'s CPUs with it.');
  out.push('');
  out.push(table([
    ['phase', 'objects/s', 'vs bare', 'CPU µs/obj', 'vs bare', 'peak RSS MB', 'peak heap MB'],
    ['bare HeadObject loop', String(headPerSec), '1.00', String(cpuUsPerObject.headLoop), '1.00', String(medianOf(heads, (r) => r.peakRssMb)), String(medianOf(heads, (r) => r.peakHeapUsedMb))],
    ['first scan (empty table)', String(scanPerSec), ratio.toFixed(2), String(cpuUsPerObject.scan), cpuRatio.toFixed(2), String(peakRssMb), String(medianOf(firstScans, (r) => r.peakHeapUsedMb))],
    ['re-scan (steady state)', String(rescanPerSec), rescanRatio.toFixed(2), String(cpuUsPerObject.rescan), rescanCpuRatio.toFixed(2), String(medianOf(rescans, (r) => r.peakRssMb)), String(medianOf(rescans, (r) => r.peakHeapUsedMb))],
    ['scan without recording', String(noRecordPerSec), round(noRecordPerSec / headPerSec, 2).toFixed(2), String(cpuUsPerObject.noRecord), cpuVsBare(cpuUsPerObject.noRecord).toFixed(2), String(medianOf(noRecordScans, (r) => r.peakRssMb)), String(medianOf(noRecordScans, (r) => r.peakHeapUsedMb))],
    [`first scan of ${TENTH_PREFIX} (N/10)`, String(medianOf(tenthScans, (r) => r.perSec)), '', String(medianOf(tenthScans, (r) => r.cpuUsPerObject)), '', String(peakRssMbAtTenth), String(medianOf(tenthScans, (r) => r.peakHeapUsedMb))],
  ]));
  out.push('');
  const ops = [...new Set([...Object.keys(firstCalls), ...Object.keys(rescanCalls)])].sort();
  const msPerCall = (r: PhaseResult, op: string) => {
    const calls = r.calls[op] ?? 0;
    return calls ? (r.callMs[op] ?? 0) / calls : 0;
  };
  out.push(table([
    ['API calls (scan)', 'per object', 'total', 'ms/call', 're-scan /obj', 'total', 'ms/call'],
    ...ops.map((op) => [
      op,
      String(firstCalls[op] ?? 0), String(first.calls[op] ?? 0), msPerCall(first, op).toFixed(1),
      String(rescanCalls[op] ?? 0), String(again.calls[op] ?? 0), msPerCall(again, op).toFixed(1),
    ]),
  ]));
  out.push('');
  out.push(table([
    ['HeadObject ms/call', 'bare loop', 'first scan', 're-scan', 'no-record'],
    ['', ...[medianRun(heads), first, again, medianRun(noRecordScans)].map((r) => msPerCall(r, 'HeadObject').toFixed(1))],
  ]));
  out.push('');
  // The recorder keeps one batch in flight, and each batch is a BatchGetItem then a TransactWriteItems:
  // their summed time is time the scan spends recording one batch after another.
  for (const [label, r] of [['first scan', first], ['re-scan', again]] as const) {
    const recording = ((r.callMs.BatchGetItem ?? 0) + (r.callMs.TransactWriteItems ?? 0)) / 1000;
    const batches = r.calls.TransactWriteItems ?? 0;
    out.push(`${label}: recording (BatchGetItem + TransactWriteItems, one batch at a time) took ${recording.toFixed(1)} s ` +
      `of ${r.seconds.toFixed(1)} s; ${batches} batches of ≤ 25 cap the scan at ~${round(r.objects / Math.max(recording, 0.001))} objects/s`);
  }
  out.push('');
  for (const t of targets) out.push(`${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.actual} (target ${t.wanted})`);
  out.push(`Notes: the bare loop's keys are listed before its clock starts; the scan's listing is inside its time (and CPU).`);
  out.push(`  CPU is this process's user + system time (process.cpuUsage()) over the timed part, per object; the emulator's`);
  out.push(`  CPU is not in it. Beyond the HeadObject the first scan spends ${round(cpuUsPerObject.scan - cpuUsPerObject.headLoop)} µs/object, ` +
    `the re-scan ${round(cpuUsPerObject.rescan - cpuUsPerObject.headLoop)} (the HeadObject itself: ${cpuUsPerObject.headLoop}).`);
  const retainedKbPerObject = round(((RSS_RATIO_LIMIT - 1) * peakRssMbAtTenth * 1024) / (options.objects - seed.tenthObjects), 1);
  out.push(`  RSS limit ${RSS_RATIO_LIMIT}: most of the RSS is the fixed cost of Node, tsx and the SDK, and the same phase's`);
  out.push(`  peak RSS moves by up to ~15% between rounds (GC timing), so a tighter limit would flag noise. At this N it`);
  out.push(`  flags a scan that keeps ≥ ${retainedKbPerObject} KB per object; a larger --objects makes the check sharper.`);

  if (options.json) {
    const summary = {
      objects: options.objects,
      concurrency,
      rounds: options.rounds,
      scanPerSec,
      headLoopPerSec: headPerSec,
      ratio,
      rescanPerSec,
      rescanRatio,
      noRecordPerSec,
      cpuUsPerObject,
      cpuRatio,
      rescanCpuRatio,
      callsPerObject: firstCalls,
      rescanCallsPerObject: rescanCalls,
      calls: first.calls,
      peakRssMb,
      peakRssMbAtTenth,
      rssRatio,
      distinctKmsKeys: seed.distinctKmsKeys,
      seedSeconds: round(seed.seconds, 2),
      targets: Object.fromEntries(targets.map((t) => [t.name, { pass: t.pass, actual: t.actual, target: t.wanted }])),
      runs: { head: heads, firstScan: firstScans, rescan: rescans, noRecord: noRecordScans, tenthScan: tenthScans },
    };
    process.stdout.write(`${out.join('\n')}\n${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(`${out.join('\n')}\n`);
  }
}

async function main(): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }

  // The benchmark talks to its own emulator only, through the SDK's environment conventions;
  // the phase processes inherit this environment.
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_DEFAULT_REGION', 'SSEGUARD_POLICY']) delete process.env[name];
  const emulator = await startEmulator({ port: await freePort() });
  useEmulator(emulator.endpoint);
  const stop = async (signal: NodeJS.Signals) => {
    log(`${signal}: stopping`);
    runningPhase()?.kill('SIGTERM');
    await emulator.stop();
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await bench(options, emulator);
    return 0;
  } finally {
    await emulator.stop();
  }
}

// exitCode, not process.exit: the report and the JSON line written to a pipe must drain first.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  },
);
