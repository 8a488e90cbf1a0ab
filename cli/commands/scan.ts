// `sseguard scan`: audits a bucket (or prefix) against the policy and records the findings.
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import { scanBucket, type ScanResult } from '#shared/audit/scan.ts';
import type { Finding } from '#shared/domain/finding.ts';
import { VERDICTS, isFailingVerdict } from '#shared/domain/verdict.ts';
import { createRuntime, scanDependencies } from '#shared/runtime.ts';
import type { Config } from '#shared/config.ts';
import { findingJson, formatBytes, renderTable } from '../output/format.ts';
import { ProgressLine } from '../output/progress.ts';
import { write } from '../output/stream.ts';

export interface ScanCommandOptions {
  bucket: string;
  prefix?: string;
  policy?: string;
  concurrency: number;
  json: boolean;
  record: boolean;
}

const EXAMPLES_SHOWN = 20;

export async function scanCommand(config: Config, options: ScanCommandOptions, out: Writable = process.stdout): Promise<number> {
  const runtime = createRuntime(config, { maxSockets: options.concurrency });
  const deps = await scanDependencies(runtime, options.policy, { record: options.record });
  const progress = new ProgressLine();
  const examples: Finding[] = [];
  let first = true;

  if (options.json) {
    await write(out, `{"scan":${JSON.stringify({ bucket: options.bucket, prefix: options.prefix ?? '' })},"findings":[`);
  }
  const started = performance.now();
  let result: ScanResult;
  try {
    result = await scanBucket(deps, {
      bucket: options.bucket,
      ...(options.prefix ? { prefix: options.prefix } : {}),
      concurrency: options.concurrency,
      onProgress: ({ listed, audited }) => progress.update(listed, audited),
      onFinding: async (finding) => {
        if (isFailingVerdict(finding.verdict) && examples.length < EXAMPLES_SHOWN) examples.push(finding);
        if (options.json) {
          await write(out, `${first ? '' : ','}\n${JSON.stringify(findingJson(finding))}`);
          first = false;
        }
      },
    });
  } finally {
    progress.done();
  }
  const seconds = (performance.now() - started) / 1000;
  const failing = VERDICTS.filter(isFailingVerdict).some((v) => (result.verdicts[v] ?? 0) > 0);

  if (options.json) {
    const summary = { ...result, seconds: Number(seconds.toFixed(3)), recorded: options.record, exitCode: failing ? 1 : 0 };
    await write(out, `\n],"summary":${JSON.stringify(summary)}}\n`);
  } else {
    await write(out, renderSummary(result, seconds, options, examples, config.table));
  }
  return failing ? 1 : 0;
}

function renderSummary(
  result: ScanResult,
  seconds: number,
  options: ScanCommandOptions,
  examples: Finding[],
  table: string,
): string {
  const where = `s3://${result.bucket}/${result.prefix}`;
  const rate = result.objects / Math.max(seconds, 0.001);
  const lines = [
    `Scanned ${where}: ${result.objects} objects, ${formatBytes(result.bytes)} in ${seconds.toFixed(1)} s ` +
      `(${rate.toFixed(0)} objects/s at concurrency ${options.concurrency})`,
    '',
    renderTable(
      ['verdict', 'objects'],
      VERDICTS.map((v) => [v, result.verdicts[v] ?? 0]),
    ),
    '',
    renderTable(
      ['mode', 'objects'],
      Object.entries(result.modes).map(([mode, count]) => [mode, count ?? 0]),
    ),
  ];
  const keys = Object.entries(result.kmsKeys);
  if (keys.length > 0) {
    lines.push(
      '',
      renderTable(
        ['KMS key', 'objects', 'bytes', 'at-risk'],
        keys.map(([arn, exposure]) => [arn, exposure.objects, formatBytes(exposure.bytes), exposure.verdicts['at-risk'] ?? 0]),
      ),
    );
  }
  if (examples.length > 0) {
    lines.push(
      '',
      `Objects not proven compliant${examples.length === EXAMPLES_SHOWN ? ` (first ${EXAMPLES_SHOWN})` : ''}:`,
      renderTable(
        ['verdict', 'key', 'mode', 'reasons'],
        examples.map((f) => [f.verdict, f.key, f.mode ?? '-', f.reasons.map((r) => r.code).join(', ')]),
      ),
    );
  }
  lines.push('', options.record ? `Findings recorded in table ${table}.` : 'Findings not recorded (--no-record).');
  return `${lines.join('\n')}\n`;
}
