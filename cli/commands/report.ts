// `sseguard report`: prints what the findings table holds, as a table, JSON or CSV. Findings are
// streamed page by page; the summary comes from the counters, never from a table scan.
import type { Writable } from 'node:stream';
import { ConfigError, type Config } from '#shared/config.ts';
import { VERDICTS, type Verdict } from '#shared/domain/verdict.ts';
import type { FindingFilter } from '#shared/findings/store.ts';
import { createRuntime } from '#shared/runtime.ts';
import { FINDING_CSV_COLUMNS, csvField, findingCsvRow, findingJson } from '#shared/report/export-formats.ts';
import { describeChange, isChange, objectChange, type ObjectChange } from '#shared/remediation/change-log.ts';
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

export async function reportCommand(config: Config, options: ReportCommandOptions, out: Writable = process.stdout): Promise<number> {
  const { store } = createRuntime(config);
  if (options.remediations) {
    if (options.verdict || options.kmsKey) throw new ConfigError('--remediations lists changes by bucket only: drop --verdict and --kms-key');
    return remediationsReport(store, options, out);
  }
  const filter: FindingFilter = {
    ...(options.bucket ? { bucket: options.bucket } : {}),
    ...(options.verdict ? { verdict: options.verdict } : {}),
    ...(options.kmsKey ? { kmsKeyArn: options.kmsKey } : {}),
  };

  if (options.format === 'csv') {
    await write(out, `${FINDING_CSV_COLUMNS.join(',')}\n`);
    for await (const page of store.findings(filter)) {
      await write(out, page.map((f) => `${findingCsvRow(f)}\n`).join(''));
    }
    return 0;
  }

  const summary = await store.summary();
  if (options.format === 'json') {
    await write(out, `{"summary":${JSON.stringify(summary)},"findings":[`);
    let first = true;
    for await (const page of store.findings(filter)) {
      for (const finding of page) {
        await write(out, `${first ? '' : ','}\n${JSON.stringify(findingJson(finding))}`);
        first = false;
      }
    }
    await write(out, '\n]}\n');
    return 0;
  }

  const { overall } = summary;
  const proven = (overall.verdicts.compliant ?? 0) + (overall.verdicts.exempt ?? 0);
  const percent = overall.objects === 0 ? 100 : (100 * proven) / overall.objects;
  await write(
    out,
    [
      `${overall.objects} objects, ${formatBytes(overall.bytes)}; ${percent.toFixed(1)}% compliant or exempt`,
      '',
      renderTable(
        ['bucket', 'objects', ...VERDICTS],
        Object.entries(summary.buckets)
          .filter(([, counts]) => counts.objects > 0)
          .map(([bucket, counts]) => [bucket, counts.objects, ...VERDICTS.map((v) => counts.verdicts[v] ?? 0)]),
      ),
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
  const rows: (string | number)[][] = [];
  for await (const page of store.findings(filter)) {
    for (const f of page) rows.push([f.verdict, f.bucket, f.key, f.mode ?? '-', f.reasons.map((r) => r.code).join(', ') || '-']);
    // A terminal table of the first pages is what a person reads; JSON and CSV carry everything.
    if (rows.length >= 1000) break;
  }
  await write(out, `${renderTable(['verdict', 'bucket', 'key', 'mode', 'reasons'], rows)}\n`);
  if (rows.length >= 1000) await write(out, '(first 1000 findings shown: use --format csv or json for all)\n');
  return 0;
}
