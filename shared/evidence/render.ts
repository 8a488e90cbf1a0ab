// The evidence pack's files: one self-contained HTML report a person reads and prints (no script,
// no external resource; tables repeat their headers across printed pages), the same data as JSON,
// and one CSV per table.
import { csvField } from '../report/export-formats.ts';
import { HTML_ROWS, type EvidencePack, type FixChange, type PopulationObject, type VerdictChange } from './pack.ts';

const escapeHtml = (value: unknown): string =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const bytes = (n: number): string => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
};

function table(testId: string, headers: string[], rows: unknown[][], empty = 'none'): string {
  if (rows.length === 0) return `<p class="empty" data-testid="${testId}-empty">${escapeHtml(empty)}</p>`;
  return `<table data-testid="${testId}"><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** The HTML shows the first rows of the exceptions and the most recent changes; the CSV files carry every row. */
const capped = <T>(rows: T[]): T[] => rows.slice(0, HTML_ROWS);
const recent = <T>(rows: T[]): T[] => rows.slice(-HTML_ROWS);
const more = (total: number, file: string): string =>
  total > HTML_ROWS ? `<p class="note">${total - HTML_ROWS} more rows in <code>${file}</code> (and in <code>evidence.json</code>).</p>` : '';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;margin:2rem auto;max-width:70rem;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.15rem;border-bottom:2px solid #1b1f24;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:12px}th,td{border:1px solid #c9d1d9;padding:.25rem .4rem;text-align:left;vertical-align:top;word-break:break-word}
th{background:#eef1f4}thead{display:table-header-group}tr{break-inside:avoid}
.meta{color:#57606a}.gaps{border:3px solid #b42318;background:#fef3f2;padding:.5rem 1rem;margin:1rem 0}.gaps h2{border:0;color:#b42318;margin:.3rem 0}
.ok{border:2px solid #1a7f37;background:#f0fff4;padding:.5rem 1rem;margin:1rem 0}.never,.stale{color:#b42318;font-weight:600}
.kpis{display:flex;gap:1rem;flex-wrap:wrap}.kpi{border:1px solid #c9d1d9;padding:.4rem .8rem;min-width:9rem}.kpi b{display:block;font-size:1.3rem}
code{font-size:12px;word-break:break-all}.note,.empty{color:#57606a}
@page{size:A4;margin:14mm}
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid}section{break-inside:auto}section.page{break-before:page}.gaps,.ok{break-inside:avoid}}
`;

export function renderHtml(pack: EvidencePack, integrity: { signingKey?: string; verifyCommand: string }): string {
  const p = pack.population;
  const verdictRows = Object.entries(p.byVerdict).map(([v, t]) => [v, t.objects, bytes(t.bytes)]);
  const gaps =
    pack.gaps.length > 0
      ? `<div class="gaps" data-testid="gaps"><h2>Gaps in this evidence (read first)</h2><ul>${pack.gaps.map((g) => `<li>${escapeHtml(g)}</li>`).join('')}</ul></div>`
      : `<div class="ok" data-testid="no-gaps">No gaps: every bucket in scope was swept whole within the staleness limit, every history entry is chained and the chains hold.</div>`;
  const sample = pack.sample;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(pack.title)} as of ${escapeHtml(pack.asOf)}</title><style>${STYLE}</style></head>
<body>
<header><h1>${escapeHtml(pack.title)}</h1>
<p class="meta" data-testid="as-of">As of <b>${escapeHtml(pack.asOf)}</b>${pack.reconstructed ? ' (reconstructed from the per-object history)' : ' (the recorded state when generated)'} · generated ${escapeHtml(pack.generatedAt)} · change window ${escapeHtml(pack.window.from)} → ${escapeHtml(pack.window.to)} (${pack.window.days} days)</p>
<p class="meta">Scope: buckets ${escapeHtml(Array.isArray(pack.scope.buckets) ? pack.scope.buckets.join(', ') : 'all recorded and existing')}; accounts ${escapeHtml(Array.isArray(pack.scope.accounts) ? pack.scope.accounts.join(', ') : 'all')}.</p>
</header>
${gaps}
<section><h2>Population</h2>
<div class="kpis"><div class="kpi" data-testid="kpi-objects"><b>${p.objects.toLocaleString('en-US')}</b>objects</div><div class="kpi"><b>${bytes(p.bytes)}</b>stored</div>
<div class="kpi" data-testid="kpi-exceptions"><b>${pack.totals.exceptions.toLocaleString('en-US')}</b>not compliant</div><div class="kpi"><b>${p.noncurrent.objects.toLocaleString('en-US')}</b>noncurrent versions (apart)</div></div>
<h3>By verdict</h3>${table('population-verdicts', ['verdict', 'objects', 'bytes'], verdictRows)}
<h3>By encryption mode</h3>${table('population-modes', ['mode', 'objects', 'bytes'], Object.entries(p.byMode).map(([m, t]) => [m, t.objects, bytes(t.bytes)]))}
<h3>By bucket</h3>${table('population-buckets', ['bucket', 'objects', 'bytes', 'verdicts'], Object.entries(p.byBucket).map(([b, t]) => [b, t.objects, bytes(t.bytes), Object.entries(t.verdicts).map(([v, n]) => `${v} ${n}`).join(', ')]))}
<h3>By KMS key</h3>${table('population-keys', ['KMS key', 'objects', 'bytes'], Object.entries(p.byKmsKey).map(([k, t]) => [k, t.objects, bytes(t.bytes)]))}
${Object.keys(p.byAccount).length ? `<h3>By account</h3>${table('population-accounts', ['account', 'objects', 'bytes', 'verdicts'], Object.entries(p.byAccount).sort(([a], [b]) => (a < b ? -1 : 1)).map(([a, t]) => [a, t.objects, bytes(t.bytes), Object.entries(t.verdicts ?? {}).map(([v, n]) => `${v} ${n}`).join(', ')]))}` : ''}
<h3>Noncurrent versions (apart)</h3>${table('population-noncurrent', ['verdict', 'versions'], Object.entries(p.noncurrent.verdicts).map(([v, n]) => [v, n]), 'no noncurrent version recorded')}
<p class="note">${escapeHtml(p.noncurrent.note)} ${p.noncurrent.objects} versions, ${bytes(p.noncurrent.bytes)}.${p.noncurrent.recordedAfterAsOf ? ` ${p.noncurrent.recordedAfterAsOf.objects} of them last audited after this time.` : ''}${p.unknownAsOf.objects ? ` ${p.unknownAsOf.objects} objects unknown as of this time (history starts later).` : ''}</p>
</section>
<section class="page"><h2>Coverage</h2>
${pack.coverageByAccount ? `<h3>By account</h3>${table('coverage-accounts', ['account', 'buckets', 'never audited', 'stale', 'current', 'objects'], pack.coverageByAccount.map((a) => [a.account, a.buckets, a.never, a.stale, a.current, a.objects]))}<h3>By bucket</h3>` : ''}
${pack.coverageByAccount
  ? table('coverage', ['account', 'bucket', 'status', 'objects', 'last audited', 'last whole-bucket run', 'age (days)', 'evidence tiers'], pack.coverage.map((c) => [c.account ?? '—', c.bucket, c.status.toUpperCase(), c.objects, c.lastAudited ?? '—', c.lastWholeBucketRun ?? '—', c.ageDays ?? '—', Object.entries(c.tiers).map(([t, n]) => `${t} ${n}`).join(', ')]))
  : table('coverage', ['bucket', 'status', 'objects', 'last audited', 'last whole-bucket run', 'age (days)', 'evidence tiers'], pack.coverage.map((c) => [c.bucket, c.status.toUpperCase(), c.objects, c.lastAudited ?? '—', c.lastWholeBucketRun ?? '—', c.ageDays ?? '—', Object.entries(c.tiers).map(([t, n]) => `${t} ${n}`).join(', ')]))}
</section>
<section class="page"><h2>Exceptions</h2>
<h3>Objects not compliant (${pack.totals.exceptions})</h3>
${table('exceptions', ['bucket', 'key', 'verdict', 'mode', 'reasons', 'audited'], capped(pack.exceptions.objects).map((o) => [o.bucket, o.key, o.verdict, o.mode ?? '—', o.reasons.map((r) => r.message || r.code).join('; '), o.auditedAt]))}
${more(pack.totals.exceptions, 'exceptions.csv')}
<h3>Exemptions</h3>
${table('exemptions', ['scope', 'owner', 'reason', 'expires', 'status', 'objects covered'], pack.exceptions.exemptions.map((e) => [`${e.bucket}/${e.prefix}*`, e.owner, e.reason, e.expires, e.expired ? 'EXPIRED' : 'in force', e.coveredObjects]), 'no exemptions in the policy')}
</section>
<section class="page"><h2>KMS keys</h2>
${table('keys', ['key', 'state', 'manager', 'rotation', 'deletion scheduled', 'objects', 'bytes', 'checked'], pack.keys.map((k) => [k.arn, k.state ?? k.status, k.manager ?? '—', k.rotationEnabled === undefined ? 'unknown' : k.rotationEnabled ? 'on' : 'off', k.deletionDate ?? '—', k.objects, bytes(k.bytes), k.checkedAt ?? '—']))}
</section>
<section class="page"><h2>Changes in the window</h2>
<h3>Fixes (${pack.totals.fixes})</h3>
${table('fixes', ['at', 'object', 'action', 'outcome', 'before', 'after', 'version ids', 'batch job'], recent(pack.changes.fixes).map((f) => [f.at, `${f.bucket}/${f.key}`, f.action, f.outcome, snapshot(f.before), snapshot(f.after), `${f.beforeVersionId ?? '—'} → ${f.afterVersionId ?? '—'}`, f.batchJobId ?? '—']))}
${more(pack.totals.fixes, 'fixes.csv')}
<h3>Verdict changes (${pack.totals.verdictChanges})</h3>
${table('verdict-changes', ['at', 'object', 'from', 'to', 'version'], recent(pack.changes.verdictChanges).map((c) => [c.at, `${c.bucket}/${c.key}`, c.from ?? '(new)', c.to, c.versionId ?? '—']))}
${more(pack.totals.verdictChanges, 'verdict-changes.csv')}
<h3>Policy versions used</h3><p>${pack.changes.policyVersions.length ? pack.changes.policyVersions.map(escapeHtml).join(', ') : '<span class="note">no policy version recorded on the findings of the window</span>'}</p>
<h3>Key state changes</h3>
${table('key-actions', ['at', 'key', 'action', 'outcome', 'detail'], pack.changes.keyActions.map((a) => [a.at, a.keyArn, a.action, a.outcome, a.detail]), 'no key actions by sseguard in the window')}
${table('key-states', ['key', 'state', 'checked'], pack.changes.keyStates.map((k) => [k.arn, k.state, k.checkedAt]), 'no key found in a state other than Enabled in the window')}
<p class="note">${escapeHtml(pack.changes.note)}</p>
</section>
${sample ? `<section class="page"><h2>Sample re-checked live</h2>
<p data-testid="sample-seed">${sample.rows.length} of ${sample.drawnFrom} objects drawn at random, seed <b>${sample.seed}</b> (re-run with <code>--sample ${sample.requested} --seed ${sample.seed}</code> to draw the same): ${sample.matches} match, <span class="${sample.mismatches ? 'never' : ''}">${sample.mismatches} mismatch</span>, ${sample.couldNotCheck} could not be checked.</p>
${table('sample', ['object', 'result', 'recorded', 'live', 'differences', 'checked'], sample.rows.map((r) => [`${r.bucket}/${r.key}`, r.result.toUpperCase(), `${r.recorded.verdict} ${r.recorded.mode ?? ''} ${r.recorded.kmsKeyArn ?? ''}`, r.live ? `${r.live.verdict} ${r.live.mode ?? ''} ${r.live.kmsKeyArn ?? ''} ${r.live.keyState ?? ''}` : '—', r.differences.join('; '), r.checkedAt]))}
</section>` : ''}
<section class="page"><h2>Control mapping</h2>
<p class="note">Reviewed ${escapeHtml(pack.controls.reviewed)}. Each row states what this pack supports a claim of, and what it does not show.</p>
${table('controls', ['framework', 'control', 'requirement', 'evidence', 'claim supported', 'limits', 'source'], pack.controls.rows.map((r) => [r.framework, r.control, r.requirement, r.evidence.join(', '), r.claim, r.limits, r.source]))}
</section>
<section class="page"><h2>Integrity</h2>
<p>History chains: ${pack.chains.chainedEntries} entries of ${pack.chains.objects} objects chained${pack.chains.earliestChainedAt ? ` since ${escapeHtml(pack.chains.earliestChainedAt)}` : ''}; ${pack.chains.unchainedEntries} entries written before hashing (not tamper-evident). <span data-testid="chain-status" class="${pack.chains.problems.length ? 'never' : ''}">${pack.chains.problems.length ? `${pack.chains.problems.length} chain problem(s):` : 'All chains hold.'}</span></p>
${pack.chains.problems.length ? `<ul>${pack.chains.problems.slice(0, 200).map((x) => `<li>${escapeHtml(x)}</li>`).join('')}</ul>` : ''}
<p>Every file of this pack is listed with its SHA-256 in <code>manifest.json</code>, signed${integrity.signingKey ? ` with the KMS key <code>${escapeHtml(integrity.signingKey)}</code> (ECDSA_SHA_256)` : ' — <b>not signed</b> (no signing key given)'}. Verify offline with:</p>
<pre><code>${escapeHtml(integrity.verifyCommand)}</code></pre>
</section>
</body></html>
`;
}

function snapshot(value: unknown): string {
  if (!value || typeof value !== 'object') return '—';
  const s = value as { mode?: string; kmsKeyArn?: string; bucketKeyEnabled?: boolean };
  return [s.mode, s.kmsKeyArn, s.bucketKeyEnabled ? 'bucket key' : ''].filter(Boolean).join(' ');
}

type CsvRow = (string | number | undefined)[];
const csvLine = (row: CsvRow): string => `${row.map((v) => csvField(v)).join(',')}\n`;
const csv = (headers: string[], rows: CsvRow[]): string => `${headers.join(',')}\n${rows.map(csvLine).join('')}`;

/** The pack's long lists, one CSV each, written a row at a time as the objects pass (files.ts). */
export const LIST_CSV = {
  exceptions: {
    file: 'exceptions.csv',
    header: 'bucket,key,version_id,verdict,mode,kms_key_arn,reasons,audited_at,account\n',
    line: (o: PopulationObject) => csvLine([o.bucket, o.key, o.versionId, o.verdict, o.mode, o.kmsKeyArn, o.reasons.map((r) => r.code).join(' '), o.auditedAt, o.account]),
  },
  fixes: {
    file: 'fixes.csv',
    header: 'at,bucket,key,action,outcome,before_mode,before_kms_key_arn,after_mode,after_kms_key_arn,before_version_id,after_version_id,batch_job_id\n',
    line: (f: FixChange) => {
      const before = f.before as { mode?: string; kmsKeyArn?: string };
      const after = (f.after ?? {}) as { mode?: string; kmsKeyArn?: string };
      return csvLine([f.at, f.bucket, f.key, f.action, f.outcome, before.mode, before.kmsKeyArn, after.mode, after.kmsKeyArn, f.beforeVersionId, f.afterVersionId, f.batchJobId]);
    },
  },
  verdictChanges: {
    file: 'verdict-changes.csv',
    header: 'at,bucket,key,from,to,version_id\n',
    line: (c: VerdictChange) => csvLine([c.at, c.bucket, c.key, c.from, c.to, c.versionId]),
  },
} as const;

/** The pack's small CSV files (file name → content); the long lists are LIST_CSV's. */
export function renderCsv(pack: EvidencePack): Record<string, string> {
  const p = pack.population;
  const tallies = (dimension: string, rows: Record<string, { objects: number; bytes: number; unsized?: number }>) =>
    Object.entries(rows).map(([value, t]) => [dimension, value, t.objects, t.bytes, t.unsized ?? 0]);
  return {
    'population.csv': csv(['dimension', 'value', 'objects', 'bytes', 'objects_without_size'], [
      ['total', 'all', p.objects, p.bytes, p.unsized],
      ...tallies('verdict', p.byVerdict),
      ...tallies('mode', p.byMode),
      ...tallies('kms_key', p.byKmsKey),
      ...tallies('bucket', p.byBucket),
      ...tallies('account', p.byAccount),
      ['noncurrent', 'all', p.noncurrent.objects, p.noncurrent.bytes, 0],
      ...Object.entries(p.noncurrent.verdicts).map(([verdict, n]) => ['noncurrent_verdict', verdict, n, '', '']),
    ]),
    'coverage.csv': csv(['bucket', 'status', 'objects', 'last_audited', 'last_whole_bucket_run', 'age_days', 'evidence_tiers', 'account'], pack.coverage.map((c) => [c.bucket, c.status, c.objects, c.lastAudited ?? '', c.lastWholeBucketRun ?? '', c.ageDays ?? '', Object.entries(c.tiers).map(([t, n]) => `${t}:${n}`).join(' '), c.account])),
    'exemptions.csv': csv(['bucket', 'prefix', 'owner', 'reason', 'expires', 'expired', 'covered_objects'], pack.exceptions.exemptions.map((e) => [e.bucket, e.prefix, e.owner, e.reason, e.expires, String(e.expired), e.coveredObjects])),
    'keys.csv': csv(['arn', 'status', 'state', 'manager', 'rotation_enabled', 'deletion_date', 'checked_at', 'objects', 'bytes'], pack.keys.map((k) => [k.arn, k.status, k.state, k.manager, k.rotationEnabled === undefined ? '' : String(k.rotationEnabled), k.deletionDate, k.checkedAt, k.objects, k.bytes])),
    'controls.csv': csv(['framework', 'control', 'requirement', 'evidence', 'claim', 'limits', 'source', 'reviewed'], pack.controls.rows.map((r) => [r.framework, r.control, r.requirement, r.evidence.join('; '), r.claim, r.limits, r.source, pack.controls.reviewed])),
    ...(pack.sample
      ? { 'sample.csv': csv(['bucket', 'key', 'result', 'recorded_verdict', 'recorded_mode', 'recorded_kms_key_arn', 'live_verdict', 'live_mode', 'live_kms_key_arn', 'live_key_state', 'differences', 'checked_at', 'seed'], pack.sample.rows.map((r) => [r.bucket, r.key, r.result, r.recorded.verdict, r.recorded.mode, r.recorded.kmsKeyArn, r.live?.verdict, r.live?.mode, r.live?.kmsKeyArn, r.live?.keyState, r.differences.join('; '), r.checkedAt, pack.sample!.seed])) }
      : {}),
  };
}
