// `sseguard report`: prints what the findings table holds, as a table, JSON or CSV. Findings are
// streamed page by page; the summary comes from the counters, never from a table scan.
import type { Writable } from 'node:stream';
import type { Config } from '#shared/config.ts';
import { VERDICTS, type Verdict } from '#shared/domain/verdict.ts';
import type { FindingFilter } from '#shared/findings/store.ts';
import { createRuntime } from '#shared/runtime.ts';
import { FINDING_CSV_COLUMNS, findingCsvRow, findingJson } from '#shared/report/export-formats.ts';
import { findingOcsf } from '#shared/report/ocsf.ts';
import { formatBytes, renderTable } from '../output/format.ts';
import { write } from '../output/stream.ts';
import type { ReportFormat } from './report-formats.ts';

export interface ReportCommandOptions {
  format: ReportFormat;
  bucket?: string;
  verdict?: Verdict;
  kmsKey?: string;
}

export async function reportCommand(config: Config, options: ReportCommandOptions, out: Writable = process.stdout): Promise<number> {
  const { store } = createRuntime(config);
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

  if (options.format === 'ocsf') {
    // OCSF Compliance Findings as JSON lines (shared/report/ocsf.ts), the Security Lake shape.
    const context = { region: config.region, ...(config.batch.accountId ? { accountId: config.batch.accountId } : {}) };
    for await (const page of store.findings(filter)) {
      await write(out, page.map((f) => `${JSON.stringify(findingOcsf(f, context))}\n`).join(''));
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
        ['KMS key', 'state', 'manager', 'rotation', 'objects', 'bytes'],
        Object.entries(summary.kmsKeys)
          .filter(([, counts]) => counts.objects > 0)
          .map(([arn, counts]) => {
            const facts = summary.keyFacts[arn];
            const described = facts?.status === 'described' ? facts : undefined;
            const rotation = described?.rotationEnabled === undefined ? 'unknown' : described.rotationEnabled ? 'on' : 'off';
            // A key pending deletion says when: its objects are lost with it on that date.
            const state = described?.deletionDate ? `${described.state} (deletes ${described.deletionDate.slice(0, 10)})` : (described?.state ?? facts?.status ?? 'unknown');
            return [arn, state, described?.manager ?? '-', rotation, counts.objects, formatBytes(counts.bytes)];
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
