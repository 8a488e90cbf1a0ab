// `sseguard report`: prints what the findings table holds, as a table, JSON or CSV. Findings are
// streamed page by page; the summary comes from the counters, never from a table scan (filtered, it is the tally of the findings listed).
import type { Writable } from 'node:stream';
import { VERDICTS, type Verdict } from '#shared/domain/verdict.ts';
import { ConfigError, type Config } from '#shared/config.ts';
import { countsFrom } from '#shared/findings/reader.ts';
import type { Counts, FindingFilter, StoredFinding, Summary } from '#shared/findings/store.ts';
import type { KeyResolver } from '#shared/policy-loader.ts';
import { createRuntime } from '#shared/runtime.ts';
import { withAccountId } from '#shared/accounts/caller-account.ts';
import { FINDING_CSV_COLUMNS, csvField, findingCsvRow, findingJson } from '#shared/report/export-formats.ts';
import { describeChange, isChange, objectChange, type ObjectChange } from '#shared/remediation/change-log.ts';
import { findingOcsf } from '#shared/report/ocsf.ts';
import { formatBytes, renderTable } from '../output/format.ts';
import { write } from '../output/stream.ts';
import type { ReportFormat } from './report-formats.ts';

export interface ReportCommandOptions {
  format: ReportFormat;
  bucket?: string;
  verdict?: Verdict;
  kmsKey?: string;
  /** The change log (what fixes changed, from the history) instead of the findings. */
  remediations?: boolean;
  account?: string;
  region?: string;
  /** Where `ocsf-parquet` writes: a `.parquet` file, or a folder in the Security Lake layout. */
  out?: string;
}

const CHANGE_CSV_COLUMNS = ['at', 'bucket', 'key', 'action', 'outcome', 'versionBefore', 'versionAfter', 'modeBefore', 'modeAfter', 'kmsKeyBefore', 'kmsKeyAfter', 'bucketKeyAfter'] as const;

/** `report --remediations`: every change a fix made, oldest first. */
async function remediationsReport(store: ReturnType<typeof createRuntime>['store'], options: ReportCommandOptions, out: Writable): Promise<number> {
  if (options.format === 'csv') await write(out, `${CHANGE_CSV_COLUMNS.join(',')}\n`);
  if (options.format === 'json') await write(out, '{"remediations":[');
  let count = 0;
  for await (const page of store.remediationLog(options.bucket ? { bucket: options.bucket } : {})) {
    const changes: ObjectChange[] = page.filter((entry) => isChange(entry.record)).map((entry) => objectChange(entry.bucket, entry.key, entry.record));
    for (const c of changes) {
      if (options.format === 'json') await write(out, `${count === 0 ? '' : ','}\n${JSON.stringify(c)}`);
      else if (options.format === 'csv')
        await write(
          out,
          `${[c.at, c.bucket, c.key, c.action, c.outcome, c.versionBefore ?? '', c.versionAfter ?? '', c.before.mode, c.after?.mode, c.before.kmsKeyArn, c.after?.kmsKeyArn, c.after?.bucketKeyEnabled === undefined ? '' : String(c.after.bucketKeyEnabled)].map(csvField).join(',')}\n`,
        );
      else await write(out, `${c.at}  ${describeChange(c)}\n`);
      count += 1;
    }
  }
  if (options.format === 'json') await write(out, '\n]}\n');
  if (options.format === 'table') await write(out, count === 0 ? 'No remediation on record.\n' : `\n${count} changes.\n`);
  return 0;
}

/** A key ARN as S3 reports it is used as given; an alias, alias ARN or key id is resolved as the policy resolves it. */
const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

export async function reportCommand(config: Config, options: ReportCommandOptions, out: Writable = process.stdout): Promise<number> {
  if ((options.format === 'ocsf-parquet') !== (options.out !== undefined)) {
    throw new ConfigError(options.out === undefined ? '--format ocsf-parquet writes files: give --out FILE.parquet, or --out DIR for the Security Lake layout' : '--out is for --format ocsf-parquet: the other formats print to standard output');
  }
  const runtime = createRuntime(config);
  const { store } = runtime;
  if (options.remediations) {
    if (options.verdict || options.kmsKey) throw new ConfigError('--remediations lists changes by bucket only: drop --verdict and --kms-key');
    if (options.format === 'ocsf-parquet') throw new ConfigError('--remediations is a change log, not findings: --format ocsf-parquet writes findings only');
    return remediationsReport(store, options, out);
  }
  const kmsKeyArn = options.kmsKey === undefined ? undefined : KEY_ARN.test(options.kmsKey) ? options.kmsKey : await resolveKeyRef(runtime.keys, options.kmsKey);
  const filter: FindingFilter = {
    ...(options.bucket ? { bucket: options.bucket } : {}),
    ...(options.verdict ? { verdict: options.verdict } : {}),
    ...(kmsKeyArn ? { kmsKeyArn } : {}),
    ...(options.account ? { account: options.account } : {}),
    ...(options.region ? { region: options.region } : {}),
  };
  const filtered = Object.keys(filter).length > 0;

  // The counters say which buckets and keys hold findings: a filter naming another answers nothing, and says so.
  const recorded = await store.summary();
  const unknown =
    options.bucket && !((recorded.buckets[options.bucket]?.objects ?? 0) > 0)
      ? `no findings recorded for bucket ${options.bucket}`
      : kmsKeyArn && !((recorded.kmsKeys[kmsKeyArn]?.objects ?? 0) > 0)
        ? `no findings recorded under KMS key ${kmsKeyArn}${kmsKeyArn === options.kmsKey ? '' : ` (${options.kmsKey})`}`
        : undefined;
  if (unknown) {
    console.error(`sseguard: error: ${unknown}`);
    return 1;
  }

  if (options.format === 'csv') {
    await write(out, `${FINDING_CSV_COLUMNS.join(',')}\n`);
    for await (const page of store.findings(filter)) {
      await write(out, page.map((f) => `${findingCsvRow(f)}\n`).join(''));
    }
    return 0;
  }

  if (options.format === 'ocsf') {
    // OCSF Compliance Findings as JSON lines (shared/report/ocsf.ts), the Security Lake shape.
    const context = { region: config.region, ...(config.batch.accountId ? { accountId: config.batch.accountId } : {}) };
    for await (const page of store.findings(filter)) {
      await write(out, page.map((f) => `${JSON.stringify(findingOcsf(f, context))}\n`).join(''));
    }
    return 0;
  }
  if (options.format === 'ocsf-parquet') {
    // Security Lake partitions by account: every event names one (SSEGUARD_ACCOUNT_ID, else STS's answer).
    const { batch } = await withAccountId(config);
    const { writeOcsfParquet } = await import('./report-parquet.ts');
    const written = await writeOcsfParquet((f) => store.findings(f), filter, { region: config.region, ...(batch.accountId ? { accountId: batch.accountId } : {}) }, options.out!);
    for (const file of written.files) await write(out, `${file.rows} findings → ${file.path}\n`);
    return 0;
  }
  if (options.format === 'json') {
    // Filtered, the summary is the tally of the findings listed: it follows them.
    const tally = filtered ? emptySummary() : undefined;
    await write(out, tally ? '{"findings":[' : `{"summary":${JSON.stringify(recorded)},"findings":[`);
    let first = true;
    for await (const page of store.findings(filter)) {
      for (const finding of page) {
        if (tally) tallyFinding(tally, finding, recorded);
        await write(out, `${first ? '' : ','}\n${JSON.stringify(findingJson(finding))}`);
        first = false;
      }
    }
    if (tally) withNoncurrentOf(tally, recorded, filter);
    await write(out, tally ? `\n],"filter":${JSON.stringify(filter)},"summary":${JSON.stringify(tally)}}\n` : '\n]}\n');
    return 0;
  }

  const rows: (string | number)[][] = [];
  const tally = filtered ? emptySummary() : undefined;
  for await (const page of store.findings(filter)) {
    for (const f of page) {
      if (tally) tallyFinding(tally, f, recorded);
      // A terminal table of the first pages is what a person reads; JSON and CSV carry everything.
      if (rows.length < 1000) rows.push([f.verdict, f.bucket, f.key, f.mode ?? '-', f.reasons.map((r) => r.code).join(', ') || '-', f.policy?.hash ?? '-']);
    }
    // Unfiltered, the summary comes from the counters: no need to read past the rows shown.
    if (!tally && rows.length >= 1000) break;
  }
  if (tally) withNoncurrentOf(tally, recorded, filter);
  const summary = tally ?? recorded;

  const { overall } = summary;
  const proven = (overall.verdicts.compliant ?? 0) + (overall.verdicts.exempt ?? 0);
  const percent = overall.objects === 0 ? 100 : (100 * proven) / overall.objects;
  await write(
    out,
    [
      `${overall.objects} objects, ${formatBytes(overall.bytes)}; ${percent.toFixed(1)}% compliant or exempt${filtered ? ` (${describeFilter(filter)})` : ''}`,
      '',
      renderTable(
        ['bucket', 'objects', ...VERDICTS],
        Object.entries(summary.buckets)
          .filter(([, counts]) => counts.objects > 0)
          .map(([bucket, counts]) => [bucket, counts.objects, ...VERDICTS.map((v) => counts.verdicts[v] ?? 0)]),
      ),
      ...accountLines(summary.accounts),
      '',
      renderTable(
        ['KMS key', 'alias', 'state', 'manager', 'rotation', 'objects', 'bytes'],
        Object.entries(summary.kmsKeys)
          .filter(([, counts]) => counts.objects > 0)
          .map(([arn, counts]) => {
            const facts = summary.keyFacts[arn];
            const described = facts?.status === 'described' ? facts : undefined;
            const rotation = described?.rotationEnabled === undefined ? 'unknown' : described.rotationEnabled ? 'on' : 'off';
            // A key pending deletion says when: its objects are lost with it on that date.
            const state = described?.deletionDate ? `${described.state} (deletes ${described.deletionDate.slice(0, 10)})` : (described?.state ?? facts?.status ?? 'unknown');
            return [arn, described?.aliases?.join(', ') || '-', state, described?.manager ?? '-', rotation, counts.objects, formatBytes(counts.bytes)];
          }),
      ),
      '',
      '',
    ].join('\n'),
  );
  await write(out, `${renderTable(['verdict', 'bucket', 'key', 'mode', 'reasons', 'policy'], rows)}\n`);
  if (rows.length >= 1000) await write(out, '(first 1000 findings shown: use --format csv or json for all)\n');
  return 0;
}

async function resolveKeyRef(keys: KeyResolver, ref: string): Promise<string> {
  try {
    return await keys.arnOf(ref);
  } catch (error) {
    throw new ConfigError(`--kms-key ${ref}: ${(error as Error).message}`);
  }
}

function describeFilter(filter: FindingFilter): string {
  return Object.entries(filter)
    .map(([name, value]) => `${name} ${String(value)}`)
    .join(', ');
}

function emptySummary(): Summary {
  return { overall: countsFrom({}), buckets: {}, kmsKeys: {}, keyFacts: {}, accounts: {} };
}

/**
 * Noncurrent versions are counted apart and never listed: a filter by bucket alone takes the
 * bucket's own counters for them (exact); any other filter cannot split them, and says nothing.
 */
function withNoncurrentOf(tally: Summary, recorded: Summary, filter: FindingFilter): void {
  if (Object.keys(filter).join() !== 'bucket' || !filter.bucket) return;
  const noncurrent = recorded.buckets[filter.bucket]?.noncurrent;
  if (!noncurrent) return;
  tally.overall.noncurrent = noncurrent;
  (tally.buckets[filter.bucket] ??= countsFrom({})).noncurrent = noncurrent;
}

/** Adds one listed finding to a filtered summary (the counters cannot be split by a filter). */
function tallyFinding(summary: Summary, finding: StoredFinding, recorded: Summary): void {
  const add = (counts: Counts) => {
    counts.objects += 1;
    counts.bytes += finding.size;
    counts.verdicts[finding.verdict] = (counts.verdicts[finding.verdict] ?? 0) + 1;
    const mode = finding.mode ?? 'unknown';
    counts.modes[mode] = (counts.modes[mode] ?? 0) + 1;
  };
  add(summary.overall);
  add((summary.buckets[finding.bucket] ??= countsFrom({})));
  if (finding.account) add(((summary.accounts ??= {})[finding.account] ??= countsFrom({})));
  if (finding.kmsKeyArn) {
    add((summary.kmsKeys[finding.kmsKeyArn] ??= countsFrom({})));
    const facts = recorded.keyFacts[finding.kmsKeyArn];
    if (facts) summary.keyFacts[finding.kmsKeyArn] = facts;
  }
}

/** Per account, the worst first (most objects not proven compliant); none when no finding carries an account. */
function accountLines(accounts: Summary['accounts']): string[] {
  const rows = Object.entries(accounts ?? {}).filter(([, counts]) => counts.objects > 0);
  if (rows.length === 0) return [];
  const unproven = (counts: Counts) => counts.objects - (counts.verdicts.compliant ?? 0) - (counts.verdicts.exempt ?? 0);
  rows.sort(([a, x], [b, y]) => unproven(y) - unproven(x) || (a < b ? -1 : 1));
  return ['', renderTable(['account', 'objects', ...VERDICTS], rows.map(([account, counts]) => [account, counts.objects, ...VERDICTS.map((v) => counts.verdicts[v] ?? 0)]))];
}
