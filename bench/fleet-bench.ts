// `npm run bench -- --only fleet`: the inventory tier against the HEAD sweep at fleet scale. Seeds N
// objects on a private emulator (SSE-S3, SSE-KMS with and without a bucket key, DSSE-KMS, aws:kms
// with the AWS-managed key, SSE-C, unencrypted), puts an S3 Inventory configuration and has the
// emulator deliver a report, then measures through the fault proxy (no faults: it counts requests
// per service:operation at the wire), each sweep in a fresh process (bench/phase.ts):
//   HEAD sweep         `scan` without inventory: ListObjectsV2 + HeadObject per object
//   first inventory    `scan --inventory` into an empty findings table (KMS rows are HEADed: no key recorded yet)
//   second inventory   after 1% of the objects changed (half rewritten SSE-KMS, half SSE-S3, a few
//                      deleted) and a new report: only changed KMS objects are HEADed, only changed
//                      findings written, gone objects removed
// then projects dollars and hours per sweep at 1 billion objects from the measured per-object counts
// and shared/cost/prices.ts. Also measures inventory parsing alone (bench/inventory-parse.ts).
// A report: exit 0 even when a target fails; exit 2 when the benchmark itself cannot run.
import { DeleteObjectCommand, HeadObjectCommand, PutBucketInventoryConfigurationCommand, PutObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { parseArgs } from 'node:util';
import { createAwsClients } from '#shared/aws/clients.ts';
import { inventoryConfiguration } from '#shared/inventory/setup.ts';
import { PRICES } from '#shared/cost/prices.ts';
import { DATA_FILE_RANGE_BYTES } from '#shared/inventory/source.ts';
import { deliverInventory } from '../cli/commands/deliver-inventory.ts';
import { freePort, startEmulator, useEmulator } from '../cli/emulator-process.ts';
import { startFaultProxy } from '../test/support/fault-proxy.ts';
import { measureParsing, type ParseFigures } from './inventory-parse.ts';
import { measureMessages, projectMessages, type MessageFigures } from './inventory-messages-bench.ts';
import type { PhaseName, PhaseResult } from './phase.ts';
import { round, runningPhase, runPhase, table } from './phase-runner.ts';
import { seedBucket, type Mode } from './seed.ts';

const HELP = `Usage: npm run bench -- --only fleet [options]

Seeds N objects on a private emulator in mixed modes, delivers an S3 Inventory report, and measures
through a counting proxy: a HEAD sweep, a first inventory sweep, and a second one after 1% churn.
Prints HeadObject and DynamoDB write requests per object, wall time, objects/s, rows per CPU-second,
peak RSS, the projected cost and hours of each sweep at 1 billion objects, inventory parsing alone
(CSV gzip and Parquet, growing files, best and median of several runs), and PASS/FAIL per target.

Options:
  --objects N        objects to seed (default 50000, at least 1000)
  --concurrency C    sweep concurrency, also the SDK's maxSockets (default 16)
  --parse-rows LIST  rows of the parsing files (default 524288,2097152: 4 and 16 full Parquet row groups)
  --parse-rounds R   runs per parsing file; best and median are reported (default 3)
  --message-rows LIST  report rows of the Lambda messages run, two sizes (default 50000,500000)
  --json             print one JSON object as the last line of stdout
  -h, --help         this help`;

const SOURCE = 'sseguard-fleet';
const DESTINATION = 'sseguard-fleet-reports';
const REPORTS = `s3://${DESTINATION}/reports`;
const SEED_CONCURRENCY = 32;
const CHURN_SHARE = 0.01;
const PROJECTED_OBJECTS = 1e9;
/** The Lambda tier's messages are measured at two bucket sizes an order of magnitude apart (bench/inventory-messages-bench.ts). */
const MESSAGE_ROWS = [50_000, 500_000];
const MESSAGE_LIMITS = { rowsPerFile: 50_000, rowsPerMessage: 10_000, keysPerMessage: 50_000 };
const TARGETS = { headPerObject: 0.012, dynamodbWritesPerObject: 0.002, dynamodbItemsReadPerObject: 0.03, rowsPerCpuSecond: 100_000, rssRatio: 1.25 };
const DYNAMODB_WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'];
/** Socket idle timeout of the sweep processes (the product's default is 3 s): see where it is used. */
const SWEEP_SOCKET_IDLE_MS = 60_000;
/** Items a sweep writes once (its run record, the report's progress) or once per KMS key: not scaled with the objects. */
const PER_SWEEP_ITEMS = new Set(['runRecord', 'inventoryProgress', 'kmsKeys', 'policies']);
/** Item size assumed for the reads of Query items (their RRU are bytes over 4 KB); writes are sized item by item. */
const ITEM_KB = 1;

class UsageError extends Error {}

interface Options {
  objects: number;
  concurrency: number;
  parseRows: number[];
  parseRounds: number;
  messageRows: number[];
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
        'parse-rows': { type: 'string' },
        'parse-rounds': { type: 'string' },
        'message-rows': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const whole = (name: string, text: string | undefined, fallback: number, min: number, max: number) => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value < min || value > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
    return value;
  };
  const parseRows = (values['parse-rows'] ?? '524288,2097152').split(',').map((n) => whole('parse-rows', n, 0, 1000, 50_000_000));
  return {
    objects: whole('objects', values.objects, 50_000, 1000, 2_000_000),
    concurrency: whole('concurrency', values.concurrency, 16, 1, 1024),
    parseRows,
    parseRounds: whole('parse-rounds', values['parse-rounds'], 3, 1, 20),
    messageRows: (values['message-rows'] ?? MESSAGE_ROWS.join(',')).split(',').map((n) => whole('message-rows', n, 0, 1000, 10_000_000)),
    json: values.json ?? false,
  };
}

/** Per 50 objects: 16 SSE-S3, 16 SSE-KMS (every other one with a bucket key), 6 DSSE-KMS, 6 aws:kms with aws/s3, 2 SSE-C, 4 unencrypted. */
function fleetMode(index: number): Mode {
  const slot = index % 50;
  if (slot < 16) return 'sse-s3';
  if (slot < 32) return 'sse-kms';
  if (slot < 38) return 'dsse-kms';
  if (slot < 44) return 'sse-kms-aws-managed';
  if (slot < 46) return 'sse-c';
  return 'unencrypted';
}

const objectKey = (index: number) => `fleet/${String(index % 100).padStart(2, '0')}/${String(index).padStart(7, '0')}.dat`;

const log = (message: string) => process.stderr.write(`fleet: ${message}\n`);

interface Sweep {
  name: string;
  phase: PhaseResult;
  /** Requests at the wire by service:Operation (fault proxy), retries included. */
  wire: Record<string, number>;
  rows: number;
  headPerObject: number;
  dynamodbWritesPerObject: number;
  /** DynamoDB items read (keys by GetItem/BatchGetItem, items returned by Query/Scan) per object of the bucket. */
  dynamodbItemsReadPerObject: number;
  /** Objects of the bucket the sweep covered: the report's rows (an inventory sweep audits only the changed ones), else the objects audited. */
  bucketObjects: number;
  /** Rows (or listed objects) over the sweep process's CPU time (user + system). */
  rowsPerCpuSecond: number;
}

interface Projection {
  objects: number;
  s3Requests: number;
  /** Not scaled: KMS calls are per distinct key (the measured sweep's keys). */
  kmsRequests: number;
  /** DynamoDB write request units of the table's items and of the object states' index entries. */
  writeUnits: { table: number; index: number };
  dollars: { s3Requests: number; inventory: number; dynamodbWrites: number; dynamodbReads: number; kms: number; total: number };
  /** At the measured objects/s of one process at the stated concurrency, against the emulator. */
  hours: number;
  /** CPU time of the sweep process (user + system) per object, times 1 billion: what scaling out must supply, whatever the service latency. */
  cpuHours: number;
}

function sweepOf(name: string, phase: PhaseResult, wire: Record<string, number>): Sweep {
  // Per object of the bucket: a sweep that compares reports audits only what changed, and its cost
  // per audited object says nothing of its cost per object covered.
  const rows = phase.detail.rows ?? phase.objects;
  const objects = Math.max(rows, 1);
  const items = phase.dynamodbItems;
  const writes = DYNAMODB_WRITES.reduce((sum, op) => sum + (wire[`dynamodb:${op}`] ?? 0), 0);
  const cpuSeconds = (phase.cpuUserMs + phase.cpuSystemMs) / 1000;
  return {
    name,
    phase,
    wire,
    rows,
    headPerObject: round((wire['s3:HeadObject'] ?? 0) / objects, 5),
    dynamodbWritesPerObject: round(writes / objects, 5),
    dynamodbItemsReadPerObject: round((items.readConsistent + items.readEventual + items.queried) / objects, 5),
    bucketObjects: rows,
    rowsPerCpuSecond: Math.round(rows / Math.max(cpuSeconds, 0.001)),
  };
}

/** Objects whose state the sweep wrote or removed: the changes its write units are per. */
function objectsWritten(s: Sweep): number {
  return s.phase.writeUnits.byItemType.objectState?.items ?? 0;
}

function perObjectWritten(s: Sweep): { stateAndHistory: number; table: number; index: number } | undefined {
  const objects = objectsWritten(s);
  if (objects === 0) return undefined;
  const units = s.phase.writeUnits;
  const stateAndHistory = (units.byItemType.objectState?.writeUnits ?? 0) + (units.byItemType.history?.writeUnits ?? 0);
  return { stateAndHistory: round(stateAndHistory / objects, 2), table: round(units.tableWriteUnits / objects, 2), index: round(units.indexWriteUnits / objects, 2) };
}

/** The report's data files, measured after delivery: what its reading costs grows with its bytes, not its rows. */
interface ReportSize {
  rows: number;
  bytes: number;
}

/**
 * Dollars and hours of one sweep at 1 billion objects, from the measured counts, each scaled by what
 * it grows with:
 *   S3, HEAD sweep: ListObjectsV2 (PUT/COPY/POST/LIST class) and HeadObject (GET class) per object.
 *   S3, inventory sweep: HeadObject per object (the changed and re-checked share); GetObject of the
 *     report by its bytes (the measured GETs, plus the data files of this and the previous report
 *     read in DATA_FILE_RANGE_BYTES ranges at the measured bytes per row: an upper bound, the diff
 *     may keep the previous keys); listing the report prefix and HeadBucket once per sweep.
 *     S3 Inventory per million objects listed.
 *   KMS: per distinct key, not per object: the key inspector caches DescribeKey, GetKeyRotationStatus
 *     and ListAliases per key for the sweep process, so the measured calls stand for as many keys at
 *     1 billion objects (the Lambda tier caches per worker: calls × keys per message).
 *   DynamoDB on demand: WRU from the measured size of every item written (bench/dynamodb-units.ts:
 *     1 per started KB alone, 2 in a transaction or ConditionCheck) plus the index writes of the
 *     object states (1 per started KB per index entry put or deleted), scaled with the objects but
 *     for the items written once per sweep or per key (PER_SWEEP_ITEMS); RRU = 1 per consistent key
 *     read + 0.5 eventually consistent + Query/Scan items at ITEM_KB over 4 KB.
 */
function project(sweep: Sweep, report?: ReportSize): Projection {
  const scale = PROJECTED_OBJECTS / Math.max(sweep.bucketObjects, 1);
  let lists = 0;
  let gets = 0;
  let kms = 0;
  for (const [key, count] of Object.entries(sweep.wire)) {
    const [service, op = ''] = key.split(':');
    if (service === 's3' && op.startsWith('List')) lists += count;
    else if (service === 's3' && !op.startsWith('Delete')) gets += count;
    else if (service === 'kms') kms += count;
  }
  const heads = sweep.wire['s3:HeadObject'] ?? 0;
  // Requests at 1 billion objects: a HEAD sweep lists and HEADs every object; an inventory sweep HEADs its share and reads the report.
  const s3 = report
    ? {
        lists,
        gets: heads * scale + (gets - heads) + (sweep.phase.detail.diffUsed ? 2 : 1) * Math.ceil(((report.bytes / Math.max(report.rows, 1)) * PROJECTED_OBJECTS) / DATA_FILE_RANGE_BYTES),
      }
    : { lists: lists * scale, gets: gets * scale };
  const items = sweep.phase.dynamodbItems;
  // Items written once per sweep (its run record, the report's progress) or per KMS key do not grow with the objects.
  const units = sweep.phase.writeUnits;
  const fixedWru = Object.entries(units.byItemType).reduce((sum, [type, t]) => sum + (PER_SWEEP_ITEMS.has(type) ? t.writeUnits : 0), 0);
  const perObjectWru = units.tableWriteUnits - fixedWru + units.indexWriteUnits;
  const rru = items.readConsistent + 0.5 * items.readEventual + items.queried * (ITEM_KB / 4);
  const dollars = {
    s3Requests: (s3.lists * PRICES.s3.putCopyPostListPer1000 + s3.gets * PRICES.s3.getHeadPer1000) / 1000,
    inventory: report ? (PROJECTED_OBJECTS / 1e6) * PRICES.s3.inventoryPerMillionObjects : 0,
    dynamodbWrites: ((perObjectWru * scale + fixedWru) * PRICES.dynamodb.writeRequestUnitsPerMillion) / 1e6,
    dynamodbReads: ((rru * PRICES.dynamodb.readRequestUnitsPerMillion) / 1e6) * scale,
    kms: (kms * PRICES.kms.per10000Requests) / 10_000,
    total: 0,
  };
  dollars.total = dollars.s3Requests + dollars.inventory + dollars.dynamodbWrites + dollars.dynamodbReads + dollars.kms;
  for (const k of Object.keys(dollars) as (keyof typeof dollars)[]) dollars[k] = round(dollars[k], 2);
  return {
    objects: PROJECTED_OBJECTS,
    s3Requests: Math.round(s3.lists + s3.gets),
    kmsRequests: kms,
    writeUnits: { table: Math.round((units.tableWriteUnits - fixedWru) * scale + fixedWru), index: Math.round(units.indexWriteUnits * scale) },
    dollars,
    hours: round(PROJECTED_OBJECTS / Math.max(sweep.bucketObjects / Math.max(sweep.phase.seconds, 0.001), 0.001) / 3600, 1),
    cpuHours: round((((sweep.phase.cpuUserMs + sweep.phase.cpuSystemMs) * 1000) / Math.max(sweep.bucketObjects, 1) * PROJECTED_OBJECTS) / 1e6 / 3600, 1),
  };
}

async function bench(options: Options): Promise<void> {
  const command = ['npm run bench -- --only fleet', ...process.argv.slice(2)].join(' ');
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_DEFAULT_REGION', 'SSEGUARD_POLICY']) delete process.env[name];

  log(`parsing: ${options.parseRows.join(', ')} rows, CSV gzip and Parquet, ${options.parseRounds} run(s) each, each in a fresh process…`);
  const parsing = await measureParsing({ rows: options.parseRows, formats: ['csv', 'parquet'], rounds: options.parseRounds, log: (line) => log(`  ${line}`) });
  log(`Lambda messages: every worker message of a report of ${options.messageRows.join(' and ')} rows (findings in memory)…`);
  const messages = await measureMessages({ rows: options.messageRows, ...MESSAGE_LIMITS });
  log('Lambda messages with the Athena setting: the second report swept from its diff, and a first report\'s key ranges from Athena…');
  const athenaMessages = {
    diff: await measureMessages({ rows: options.messageRows, ...MESSAGE_LIMITS, diff: true }),
    ranges: await measureMessages({ rows: options.messageRows, ...MESSAGE_LIMITS, athenaRanges: true }),
  };

  const emulator = await startEmulator({ port: await freePort() });
  const proxy = await startFaultProxy({ target: emulator.endpoint });
  const stop = async (signal: NodeJS.Signals) => {
    log(`${signal}: stopping`);
    runningPhase()?.kill('SIGTERM');
    // A proxy connection the killed phase left open must not keep this process from exiting.
    await Promise.race([Promise.all([proxy.close(), emulator.stop()]), new Promise((resolve) => setTimeout(resolve, 5_000))]);
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    useEmulator(emulator.endpoint);
    log(`emulator on ${emulator.endpoint}; seeding ${options.objects} objects at concurrency ${SEED_CONCURRENCY}…`);
    const writer = createAwsClients({ maxSockets: SEED_CONCURRENCY });
    const seed = await seedBucket(writer, {
      bucket: SOURCE,
      objects: options.objects,
      concurrency: SEED_CONCURRENCY,
      modeOf: fleetMode,
      objectKey,
      onProgress: (done) => done % 10_000 === 0 && log(`  seeded ${done}/${options.objects}`),
    });
    log(`seeded in ${seed.seconds.toFixed(1)} s (${Math.round(seed.objects / seed.seconds)} PutObject/s)`);
    await writer.s3.send(new CreateBucketCommand({ Bucket: DESTINATION }));
    const configuration = inventoryConfiguration({ bucket: SOURCE, destinationBucket: DESTINATION, prefix: 'reports' });
    await writer.s3.send(new PutBucketInventoryConfigurationCommand({ Bucket: SOURCE, Id: configuration.Id, InventoryConfiguration: configuration }));
    let started = performance.now();
    const [first] = await deliverInventory(emulator.endpoint, { bucket: SOURCE, at: new Date(Date.now() - 120_000) });
    // Sized outside the counting proxy: what reading a report costs grows with its bytes.
    const sizeOf = async (delivery: { rows: number; dataKeys: string[] } | undefined): Promise<ReportSize> => {
      let bytes = 0;
      for (const Key of delivery?.dataKeys ?? []) bytes += (await writer.s3.send(new HeadObjectCommand({ Bucket: DESTINATION, Key }))).ContentLength ?? 0;
      return { rows: delivery?.rows ?? 0, bytes };
    };
    const deliverySeconds = [round((performance.now() - started) / 1000, 1)];
    const reportSizes = [await sizeOf(first)];
    log(`report delivered: ${first?.rows} rows in ${first?.dataKeys.length} file(s), ${deliverySeconds[0]} s`);

    // The emulator answers a findings Query page (moto evaluates a GSI query in Python over the whole
    // table) slower than the product's 3 s socket idle timeout once the table holds many thousand
    // items on a loaded machine; AWS answers in milliseconds. The sweeps get a longer idle timeout so
    // that they measure requests, not moto's speed (stated in the report).
    const through = { AWS_ENDPOINT_URL: proxy.endpoint, SSEGUARD_SOCKET_TIMEOUT_MS: String(SWEEP_SOCKET_IDLE_MS) };
    const measureSweep = async (name: string, phase: PhaseName, table: string): Promise<Sweep> => {
      proxy.resetStats();
      const result = await runPhase(phase, {
        bucket: SOURCE,
        prefix: '',
        concurrency: options.concurrency,
        table,
        ...(phase === 'inventory' ? { inventory: REPORTS } : {}),
        env: through,
      });
      const sweep = sweepOf(name, result, proxy.stats().requests);
      log(`  ${name}: ${sweep.bucketObjects} objects (${result.objects} audited) in ${result.seconds.toFixed(1)} s, ${sweep.headPerObject} HeadObject/object, ` +
        `${sweep.dynamodbWritesPerObject} DynamoDB writes/object, ${sweep.dynamodbItemsReadPerObject} DynamoDB items read/object, peak RSS ${result.peakRssMb} MB`);
      return sweep;
    };
    log('sweeps, each in a fresh process through the counting proxy…');
    const headSweep = await measureSweep('HEAD sweep', 'scan', 'fleet-head');
    const firstSweep = await measureSweep('first inventory sweep', 'inventory', 'fleet-inventory');

    // 1% churn, spread over every mode by a multiplicative hash (a stride would always pick the same
    // slot of the mode mix); alternately rewritten SSE-KMS (the first customer key) and SSE-S3, and
    // one in 50 of them deleted.
    const churned = Array.from({ length: options.objects }, (_, i) => i).filter((i) => Math.imul(i + 1, 2654435761) >>> 0 < CHURN_SHARE * 2 ** 32);
    const churn = { kmsRewrites: 0, sseS3Rewrites: 0, deletes: 0 };
    let next = 0;
    const change = async () => {
      while (next < churned.length) {
        const ordinal = next++;
        const Key = objectKey(churned[ordinal]!);
        if (ordinal % 50 === 49) {
          churn.deletes += 1;
          await writer.s3.send(new DeleteObjectCommand({ Bucket: SOURCE, Key }));
        } else if (ordinal % 2 === 0) {
          churn.kmsRewrites += 1;
          await writer.s3.send(new PutObjectCommand({ Bucket: SOURCE, Key, Body: 'rewritten', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: seed.keyArns[0]!, BucketKeyEnabled: true }));
        } else {
          churn.sseS3Rewrites += 1;
          await writer.s3.send(new PutObjectCommand({ Bucket: SOURCE, Key, Body: 'rewritten', ServerSideEncryption: 'AES256' }));
        }
      }
    };
    await Promise.all(Array.from({ length: SEED_CONCURRENCY }, change));
    started = performance.now();
    const [second] = await deliverInventory(emulator.endpoint, { bucket: SOURCE, at: new Date() });
    deliverySeconds.push(round((performance.now() - started) / 1000, 1));
    reportSizes.push(await sizeOf(second));
    log(`churn: ${churn.kmsRewrites} rewritten SSE-KMS, ${churn.sseS3Rewrites} SSE-S3, ${churn.deletes} deleted; new report delivered`);
    const secondSweep = await measureSweep('second inventory sweep (1% churn)', 'inventory', 'fleet-inventory');
    writer.s3.destroy();
    writer.kms.destroy();

    const sweeps = [headSweep, firstSweep, secondSweep];
    const projections = { headSweep: project(headSweep), firstInventorySweep: project(firstSweep, reportSizes[0]), secondInventorySweep: project(secondSweep, reportSizes[1]) };
    report(options, command, { seed, churn, reportSizes, deliverySeconds, parsing, messages, athenaMessages, headSweep, firstSweep, secondSweep, sweeps, projections });
  } finally {
    await proxy.close();
    await emulator.stop();
  }
}

interface Figures {
  seed: Awaited<ReturnType<typeof seedBucket>>;
  churn: { kmsRewrites: number; sseS3Rewrites: number; deletes: number };
  reportSizes: ReportSize[];
  deliverySeconds: number[];
  parsing: ParseFigures[];
  messages: MessageFigures[];
  /** The same reports with SSEGUARD_ATHENA_DIFF_TABLE: swept from the diff (`diff`), and a first report's key ranges from Athena (`ranges`). */
  athenaMessages: { diff: MessageFigures[]; ranges: MessageFigures[] };
  headSweep: Sweep;
  firstSweep: Sweep;
  secondSweep: Sweep;
  sweeps: Sweep[];
  projections: Record<'headSweep' | 'firstInventorySweep' | 'secondInventorySweep', Projection>;
}

function report(options: Options, command: string, f: Figures): void {
  const out: string[] = [];
  out.push(`$ ${command}`);
  out.push(`${options.objects} objects (${Object.entries(f.seed.byMode).map(([m, n]) => `${m} ${n}`).join(', ')}), seeded in ${f.seed.seconds.toFixed(0)} s; ` +
    `sweeps at concurrency ${options.concurrency}, each in a fresh Node process; the emulator (one Python process) shares the machine's CPUs.`);
  out.push('');
  out.push(table([
    ['sweep', 'objects', 'audited', 'seconds', 'objects/s', 'HeadObject/obj', 'DDB writes/obj', 'DDB items read/obj', 'rows/CPU-s', 'peak RSS MB'],
    ...f.sweeps.map((s) => [s.name, String(s.bucketObjects), String(s.phase.objects), s.phase.seconds.toFixed(1), String(round(s.bucketObjects / Math.max(s.phase.seconds, 0.001), 1)), String(s.headPerObject),
      String(s.dynamodbWritesPerObject), String(s.dynamodbItemsReadPerObject), String(s.rowsPerCpuSecond), String(s.phase.peakRssMb)]),
  ]));
  out.push('');
  const ops = [...new Set(f.sweeps.flatMap((s) => Object.keys(s.wire)))].sort();
  out.push(table([['requests at the wire', ...f.sweeps.map((s) => s.name.split(' (')[0]!)], ...ops.map((op) => [op, ...f.sweeps.map((s) => String(s.wire[op] ?? 0))])]));
  out.push('');
  out.push(`Projected per sweep at 1 billion objects (prices ${PRICES.date}, ${PRICES.region}; hours at the measured objects/s of one process):`);
  out.push(table([
    ['sweep', 'S3 requests $', 'inventory $', 'DDB writes $', 'DDB reads $', 'KMS $', 'total $', 'hours', 'CPU-hours'],
    ...Object.entries(f.projections).map(([name, p]) => [name, ...[p.dollars.s3Requests, p.dollars.inventory, p.dollars.dynamodbWrites, p.dollars.dynamodbReads, p.dollars.kms, p.dollars.total].map((d) => d.toFixed(2)), String(p.hours), String(p.cpuHours)]),
  ]));
  out.push('');
  for (const s of [f.firstSweep, f.secondSweep]) {
    const units = s.phase.writeUnits;
    const per = perObjectWritten(s);
    out.push(`DynamoDB write units of the ${s.name}, by item type (sizes measured; ${objectsWritten(s)} object states written or removed${per ? `: ${per.table} table WRU + ${per.index} index WRU each, ${per.stateAndHistory} of them state and history` : ''}):`);
    out.push(table([
      ['item type', 'items', 'WRU', 'mean bytes', 'max bytes'],
      ...Object.entries(units.byItemType).map(([type, t]) => [type, String(t.items), String(t.writeUnits), String(t.meanBytes), String(t.maxBytes)]),
      ['index entries (byVerdict, byBucket, byKmsKey; keys only)', '', String(units.indexWriteUnits), '', ''],
      ['(index entries had the indexes projected ALL)', '', String(units.indexWriteUnitsIfProjectedAll), '', ''],
    ]));
    out.push('');
  }
  out.push('Inventory parsing alone (one process per run, rows over its CPU time):');
  out.push(table([
    ['format', 'rows', 'rows/CPU-s median', 'best', 'rows/s wall', 'peak RSS MB', 'baseline MB'],
    ...f.parsing.map((p) => [p.format, String(p.rows), String(p.medianRowsPerCpuSecond), String(p.bestRowsPerCpuSecond), String(p.medianRowsPerSecond), String(p.medianPeakRssMb), String(p.medianBaselineRssMb)]),
  ]));
  out.push('');
  out.push(`The Lambda tier, every worker message of one report (${MESSAGE_LIMITS.rowsPerMessage} rows per data-file message, ${MESSAGE_LIMITS.keysPerMessage} keys per reconcile message, findings in memory: the worker's own time):`);
  out.push(table([
    ['rows', 'data-file msgs', 'max s', 'max rows', 'reconcile msgs', 'max s', 'max keys held', 'µs/row audited', 'µs/report row/range'],
    ...f.messages.map((m) => [String(m.rows), String(m.messages.dataFile), String(m.maxDataFileMessage.seconds), String(m.maxDataFileMessage.rows), String(m.messages.reconcile),
      String(m.maxReconcileMessage.seconds), String(m.maxKeysHeld), String(m.dataFileMicrosPerRow), String(m.reconcileMicrosPerReportRow)]),
  ]));
  const lambda = projectMessages(f.messages.at(-1)!);
  out.push(`Projected at 1 billion objects (1,000,000 keys per reconcile message, ${lambda.concurrency} concurrent workers): data-file messages ${lambda.dataFileLambdaSeconds} Lambda-s; ` +
    `${lambda.reconcileRanges} key ranges of ${lambda.reconcileSecondsPerMessage} s each (${lambda.reconcileLambdaSeconds} Lambda-s); wall ${lambda.wallHours} h.`);
  out.push(`With the Athena setting (SSEGUARD_ATHENA_DIFF_TABLE; Athena's own work not counted): the second report swept from its diff (slices of its result, data files in re-check-only mode), and a first report's key ranges from Athena:`);
  out.push(table([
    ['rows', 'diff slices', 'max s', 'max rows', 're-check data-file max s', 'key-range msgs', 'max s', 'max keys read'],
    ...f.athenaMessages.diff.map((d, i) => {
      const r = f.athenaMessages.ranges[i]!;
      return [String(d.rows), String(d.messages.diffSlices ?? 0), String(d.maxDiffSliceMessage?.seconds ?? 0), String(d.maxDiffSliceMessage?.rows ?? 0), String(d.maxDataFileMessage.seconds),
        String(r.rangeMessages ?? 0), String(r.maxRangeSliceMessage?.seconds ?? 0), String(r.maxRangeSliceMessage?.keys ?? 0)];
    }),
  ]));
  out.push('');
  const targets = checkTargets(f);
  for (const t of targets) out.push(`${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.actual} (target ${t.wanted})`);
  out.push(`Notes: counts are requests at the wire (retries included); DynamoDB write units from each item's measured size, index entries included; reads assume items ≤ 4 KB; KMS calls per distinct key (not scaled); report GETs by the report's bytes. Report delivery by the emulator took ${f.deliverySeconds.join(' s and ')} s (not in any sweep).`);
  out.push(`  Sweeps ran with a ${SWEEP_SOCKET_IDLE_MS / 1000} s socket idle timeout (product default 3 s): moto answers findings Query pages slowly.`);
  out.push(`  hours: 1 billion over the measured objects/s (one process, this emulator); CPU-hours: the sweep process's CPU per object times 1 billion.`);
  out.push(`  The second inventory sweep compares its report with the first (shared/inventory/report-diff.ts): it holds the previous report's keys in memory; rows listed unchanged are neither read, HEADed nor written.`);
  out.push(`  Per object = per object of the bucket (the report's rows), not per object audited.`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (options.json) {
    const sweepJson = (s: Sweep) => ({
      objects: s.phase.objects, rows: s.rows, seconds: s.phase.seconds, objectsPerSec: s.phase.perSec, headPerObject: s.headPerObject,
      dynamodbWritesPerObject: s.dynamodbWritesPerObject, dynamodbItemsReadPerObject: s.dynamodbItemsReadPerObject, bucketObjects: s.bucketObjects, rowsPerCpuSecond: s.rowsPerCpuSecond, cpuUsPerObject: s.phase.cpuUsPerObject,
      peakRssMb: s.phase.peakRssMb, wire: s.wire, dynamodbItems: s.phase.dynamodbItems, callMs: s.phase.callMs, detail: s.phase.detail,
      writeUnitsByItemType: s.phase.writeUnits.byItemType, conditionChecksOn: s.phase.writeUnits.conditionChecksOn, largestItems: s.phase.writeUnits.largest,
      tableWriteUnits: s.phase.writeUnits.tableWriteUnits, indexWriteUnits: s.phase.writeUnits.indexWriteUnits,
      indexWriteUnitsIfProjectedAll: s.phase.writeUnits.indexWriteUnitsIfProjectedAll, objectsWritten: objectsWritten(s),
      writeUnitsPerObjectWritten: perObjectWritten(s),
    });
    process.stdout.write(`${JSON.stringify({
      fleet: {
        objects: options.objects,
        concurrency: options.concurrency,
        byMode: f.seed.byMode,
        seedSeconds: round(f.seed.seconds, 1),
        churn: f.churn,
        reportSizes: f.reportSizes,
        headSweep: sweepJson(f.headSweep),
        firstInventorySweep: sweepJson(f.firstSweep),
        secondInventorySweep: sweepJson(f.secondSweep),
        projection: { prices: { date: PRICES.date, region: PRICES.region }, ...f.projections },
        parsing: f.parsing,
        lambdaMessages: { limits: MESSAGE_LIMITS, sizes: f.messages, projection: projectMessages(f.messages.at(-1)!), athena: f.athenaMessages },
        targets: Object.fromEntries(targets.map((t) => [t.name, { pass: t.pass, actual: t.actual, target: t.wanted }])),
      },
    })}\n`);
  }
}

function checkTargets(f: Figures) {
  const second = f.secondSweep;
  const worstParse = Math.min(...f.parsing.map((p) => p.medianRowsPerCpuSecond));
  const targets = [
    { name: 'second sweep HeadObject per object', pass: second.headPerObject <= TARGETS.headPerObject, actual: String(second.headPerObject), wanted: `≤ ${TARGETS.headPerObject}` },
    { name: 'second sweep DynamoDB items read per object', pass: second.dynamodbItemsReadPerObject <= TARGETS.dynamodbItemsReadPerObject, actual: String(second.dynamodbItemsReadPerObject), wanted: `≤ ${TARGETS.dynamodbItemsReadPerObject}` },
    { name: 'second sweep DynamoDB writes per object', pass: second.dynamodbWritesPerObject <= TARGETS.dynamodbWritesPerObject, actual: String(second.dynamodbWritesPerObject), wanted: `≤ ${TARGETS.dynamodbWritesPerObject}` },
    { name: 'every object covered by every sweep', pass: f.sweeps.every((s) => (s.phase.detail.notAudited ?? 0) === 0 && s.bucketObjects > 0), actual: f.sweeps.map((s) => s.bucketObjects).join(', '), wanted: 'no object left unaudited' },
    { name: 'second sweep compared with the first report', pass: second.phase.detail.diffUsed === 1, actual: `${second.phase.detail.unchangedSinceReport ?? 0} rows unchanged`, wanted: 'a diff, not a full read' },
    { name: 'parsing rows per CPU-second (slowest format and size, median)', pass: worstParse >= TARGETS.rowsPerCpuSecond, actual: String(worstParse), wanted: `≥ ${TARGETS.rowsPerCpuSecond}` },
  ];
  const [small, large] = [f.messages[0]!, f.messages.at(-1)!];
  const timeRatio = round(large.maxDataFileMessage.seconds / Math.max(small.maxDataFileMessage.seconds, 0.001), 2);
  targets.push(
    { name: `slowest data-file message, ${large.rows} / ${small.rows} rows`, pass: timeRatio <= 2 && large.maxDataFileMessage.rows <= MESSAGE_LIMITS.rowsPerMessage, actual: `${timeRatio}× (${small.maxDataFileMessage.seconds} s → ${large.maxDataFileMessage.seconds} s, ${large.maxDataFileMessage.rows} rows)`, wanted: '≤ 2× (bounded, whatever the bucket)' },
    { name: 'report keys held by one reconcile message', pass: f.messages.every((m) => m.maxKeysHeld <= MESSAGE_LIMITS.keysPerMessage), actual: f.messages.map((m) => m.maxKeysHeld).join(', '), wanted: `≤ ${MESSAGE_LIMITS.keysPerMessage}` },
  );
  // With Athena no message streams a report: the slowest one stays flat at ten times the report (a small floor absorbs timer noise).
  const slowest = (figures: MessageFigures[], of: (m: MessageFigures) => number) => figures.map(of);
  // A diff slice holds the diff's rows up to the rows-per-message setting: at these sizes (1% churn
  // of 50,000 and 500,000 rows) both slices are under it, so their time follows the diff's size up
  // to that bound. What must stay flat is its time per row, and its rows within the setting.
  const diffSlices = f.athenaMessages.diff.map((m) => m.maxDiffSliceMessage ?? { seconds: 0, rows: 0 });
  const microsPerRow = diffSlices.map((m) => round((m.seconds * 1e6) / Math.max(m.rows, 1), 1));
  const perRowRatio = round(microsPerRow.at(-1)! / Math.max(microsPerRow[0]!, 1), 2);
  targets.push({
    name: `slowest diff slice message, ${large.rows} / ${small.rows} rows (Athena setting): time per row, rows within the setting`,
    pass: perRowRatio <= 2 && diffSlices.every((m) => m.rows <= MESSAGE_LIMITS.rowsPerMessage),
    actual: `${perRowRatio}× (${microsPerRow.join(' µs → ')} µs a row; ${diffSlices.map((m) => `${m.rows} rows in ${m.seconds} s`).join(' → ')})`,
    wanted: `≤ 2× a row, ≤ ${MESSAGE_LIMITS.rowsPerMessage} rows (bounded by the setting, whatever the bucket)`,
  });
  for (const [name, times] of [
    ['slowest re-check data-file message', slowest(f.athenaMessages.diff, (m) => m.maxDataFileMessage.seconds)],
    ['slowest key-range message from Athena', slowest(f.athenaMessages.ranges, (m) => m.maxRangeSliceMessage?.seconds ?? 0)],
  ] as const) {
    const ratio = round(times.at(-1)! / Math.max(times[0]!, 0.05), 2);
    targets.push({ name: `${name}, ${large.rows} / ${small.rows} rows (Athena setting)`, pass: ratio <= 2, actual: `${ratio}× (${times.join(' s → ')} s)`, wanted: '≤ 2× (bounded, whatever the bucket)' });
  }
  for (const format of new Set(f.parsing.map((p) => p.format))) {
    const sizes = f.parsing.filter((p) => p.format === format).sort((a, b) => a.rows - b.rows);
    if (sizes.length < 2) continue;
    const ratio = round(sizes.at(-1)!.medianPeakRssMb / sizes[0]!.medianPeakRssMb, 2);
    targets.push({ name: `${format} parsing peak RSS, ${sizes.at(-1)!.rows} rows / ${sizes[0]!.rows}`, pass: ratio <= TARGETS.rssRatio, actual: String(ratio), wanted: `≤ ${TARGETS.rssRatio} (flat in rows)` });
  }
  return targets;
}

async function main(): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`fleet bench: ${(error as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  await bench(options);
  return 0;
}

// exitCode, not process.exit: the report and the JSON line written to a pipe must drain first.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`fleet bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  },
);
