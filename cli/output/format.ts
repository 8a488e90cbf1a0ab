// Plain-text formatting shared by the CLI's table, CSV and JSON outputs.
import type { Finding } from '#shared/domain/finding.ts';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Left-aligned text columns; numbers right-aligned. */
export function renderTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const numeric = header.map((_, column) => rows.length > 0 && rows.every((row) => typeof row[column] === 'number'));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

/** RFC 4180: quote a field when it holds a comma, a quote or a line break. */
export function csvField(value: string | number | boolean | undefined | null): string {
  const text = value === undefined || value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const FINDING_CSV_COLUMNS = [
  'bucket',
  'key',
  'versionId',
  'mode',
  'kmsKeyArn',
  'verdict',
  'reasons',
  'size',
  'storageClass',
  'etag',
  'auditedAt',
] as const;

export function findingCsvRow(finding: Finding): string {
  const reasons = finding.reasons.map((r) => r.code).join(';');
  const values: Record<(typeof FINDING_CSV_COLUMNS)[number], string | number | undefined> = {
    bucket: finding.bucket,
    key: finding.key,
    versionId: finding.versionId,
    mode: finding.mode,
    kmsKeyArn: finding.kmsKeyArn,
    verdict: finding.verdict,
    reasons,
    size: finding.size,
    storageClass: finding.storageClass,
    etag: finding.etag,
    auditedAt: finding.auditedAt,
  };
  return FINDING_CSV_COLUMNS.map((column) => csvField(values[column])).join(',');
}

/** The per-object JSON shape of `scan --json` and `report --format json`: every field present. */
export function findingJson(finding: Finding): Record<string, unknown> {
  return {
    bucket: finding.bucket,
    key: finding.key,
    versionId: finding.versionId ?? null,
    mode: finding.mode ?? null,
    kmsKeyArn: finding.kmsKeyArn ?? null,
    verdict: finding.verdict,
    reasons: finding.reasons,
    size: finding.size,
    etag: finding.etag ?? null,
    storageClass: finding.storageClass ?? null,
    auditedAt: finding.auditedAt,
    ...(finding.remediation ? { remediation: finding.remediation } : {}),
  };
}
