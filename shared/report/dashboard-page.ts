// The dashboard: one self-contained HTML page (inline CSS, JS and SVG charts; nothing from a CDN)
// served at GET /. It holds no data: it asks for the API token (or takes it from the URL fragment,
// `/#token=…`, which browsers never send to servers), keeps it in sessionStorage for the tab, and
// reads the same API routes any other client reads, with the same filters.
// The page's script avoids template literals so that it can live inside this one.
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sseguard — S3 encryption compliance</title>
<style>
  :root { --compliant:#2e7d32; --noncompliant:#ef6c00; --at-risk:#c62828; --exempt:#607d8b; --unauditable:#7b1fa2;
          --ink:#1d232a; --muted:#5f6b76; --line:#dde3e8; --bg:#f5f7f9; --card:#fff; }
  * { box-sizing: border-box; } [hidden] { display:none !important; }
  body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink); background:var(--bg); }
  header { display:flex; align-items:baseline; gap:1rem; padding:.8rem 1.5rem; background:#17212b; color:#fff; }
  header h1 { font-size:1.15rem; margin:0; } header span { color:#b8c4cf; }
  header .grow { flex:1; }
  header button { background:none; border:1px solid #5b6b7a; color:#dfe6ec; border-radius:4px; padding:.2rem .6rem; cursor:pointer; }
  main { padding:1.2rem 1.5rem; display:grid; grid-template-columns:repeat(12, 1fr); gap:1rem; }
  section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:1rem; min-width:0; }
  section h2 { font-size:.8rem; text-transform:uppercase; letter-spacing:.06em; color:var(--muted); margin:0 0 .7rem; }
  .span3 { grid-column:span 3; } .span4 { grid-column:span 4; } .span5 { grid-column:span 5; } .span6 { grid-column:span 6; } .span7 { grid-column:span 7; } .span8 { grid-column:span 8; } .span12 { grid-column:span 12; }
  @media (max-width: 1000px) { .span3,.span4,.span5,.span6,.span7,.span8 { grid-column:span 12; } }
  .big { font-size:2.6rem; font-weight:650; line-height:1; }
  .muted { color:var(--muted); } .small { font-size:.85em; }
  .hero { display:flex; gap:1.2rem; align-items:center; }
  table { border-collapse:collapse; width:100%; }
  th, td { text-align:left; padding:.35rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
  th { font-size:.75rem; color:var(--muted); font-weight:600; text-transform:uppercase; letter-spacing:.04em; }
  td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
  td.key { font-family:ui-monospace, Menlo, Consolas, monospace; word-break:break-all; }
  .pill { display:inline-block; padding:0 .45rem; border-radius:999px; color:#fff; font-size:.78rem; white-space:nowrap; }
  .empty { color:var(--muted); font-style:italic; padding:.6rem 0; }
  .filters { display:flex; flex-wrap:wrap; gap:.5rem; align-items:end; margin-bottom:.7rem; }
  .filters label { display:flex; flex-direction:column; font-size:.75rem; color:var(--muted); gap:.15rem; }
  input, select, button { font:inherit; }
  .filters input, .filters select { padding:.25rem .4rem; border:1px solid #c5cdd4; border-radius:4px; min-width:9rem; background:#fff; }
  button.primary { background:#1f5fa8; color:#fff; border:0; border-radius:4px; padding:.35rem .9rem; cursor:pointer; }
  button.plain { background:#fff; border:1px solid #c5cdd4; border-radius:4px; padding:.3rem .7rem; cursor:pointer; }
  button:disabled { opacity:.45; cursor:default; }
  .pager { display:flex; gap:.5rem; align-items:center; margin-top:.6rem; }
  .bar-label { font-size:12px; fill:var(--ink); } .axis { font-size:11px; fill:var(--muted); }
  #login { max-width:28rem; margin:5rem auto; }
  #login input { width:100%; padding:.45rem; margin:.5rem 0; border:1px solid #c5cdd4; border-radius:4px; }
  .error { color:var(--at-risk); }
  tr.clickable { cursor:pointer; } tr.clickable:hover { background:#f0f4f8; }
  pre { white-space:pre-wrap; word-break:break-all; margin:0; font-size:.8rem; }
</style>
</head>
<body>
<header><h1>sseguard</h1><span>S3 object encryption compliance</span><span class="grow"></span><span id="generated" class="small"></span><button id="signout" hidden>Forget token</button></header>
<div id="login" hidden>
  <section>
    <h2>Sign in</h2>
    <p>This page reads the sseguard report API. Paste the API token (<code>SSEGUARD_API_TOKEN</code>), or open the page as <code>/#token=…</code>.</p>
    <form id="login-form"><input id="token-input" type="password" autocomplete="off" placeholder="API token" aria-label="API token"><button class="primary" type="submit">Open dashboard</button></form>
    <p id="login-error" class="error" role="alert"></p>
  </section>
</div>
<main id="app" hidden>
  <section class="span4" aria-labelledby="h-overall">
    <h2 id="h-overall">Overall compliance</h2>
    <div class="hero"><div id="overall-donut"></div>
      <div><div class="big" data-testid="overall-compliance"></div>
        <div class="muted">compliant or exempt</div>
        <div><b data-testid="overall-objects"></b> objects · <span data-testid="overall-bytes"></span></div></div></div>
  </section>
  <section class="span4" aria-labelledby="h-sweep">
    <h2 id="h-sweep">Last sweep and coverage</h2>
    <div data-testid="last-sweep"></div>
    <div data-testid="coverage" class="muted" style="margin-top:.5rem"></div>
  </section>
  <section class="span4" aria-labelledby="h-trend">
    <h2 id="h-trend">Compliance over sweep runs</h2>
    <div id="trend" data-testid="trend-chart"></div>
  </section>
  <section class="span6" aria-labelledby="h-verdicts">
    <h2 id="h-verdicts">Objects by verdict</h2><div id="verdicts"></div>
  </section>
  <section class="span6" aria-labelledby="h-modes">
    <h2 id="h-modes">Objects by encryption mode</h2><div id="modes"></div>
  </section>
  <section class="span7" aria-labelledby="h-buckets">
    <h2 id="h-buckets">Compliance per bucket</h2><div id="buckets"></div>
  </section>
  <section class="span5" aria-labelledby="h-keys">
    <h2 id="h-keys">At-risk KMS keys (blast radius)</h2><div id="atrisk"></div>
  </section>
  <section class="span12" aria-labelledby="h-remediations">
    <h2 id="h-remediations">Recent remediations</h2><div id="remediations"></div>
  </section>
  <section class="span12" aria-labelledby="h-findings">
    <h2 id="h-findings">Findings</h2>
    <form class="filters" id="filters">
      <label>Bucket<select name="bucket" data-testid="filter-bucket"><option value="">all buckets</option></select></label>
      <label>Key prefix<input name="prefix" data-testid="filter-prefix" placeholder="e.g. finance/"></label>
      <label>Verdict<select name="verdict" data-testid="filter-verdict"><option value="">any verdict</option></select></label>
      <label>Mode<select name="mode" data-testid="filter-mode"><option value="">any mode</option></select></label>
      <label>KMS key<select name="kmsKey" data-testid="filter-kms-key"><option value="">any key</option></select></label>
      <label>Per page<select name="limit"><option>25</option><option selected>50</option><option>100</option><option>500</option></select></label>
      <button class="primary" type="submit" data-testid="apply-filters">Apply</button>
      <button class="plain" type="button" id="export-csv">Export CSV</button>
      <button class="plain" type="button" id="export-json">Export JSON</button>
    </form>
    <p id="findings-error" class="error" role="alert"></p>
    <table><thead><tr><th>verdict</th><th>bucket</th><th>key</th><th>mode</th><th>KMS key</th><th>reasons</th><th class="num">size</th><th>audited</th></tr></thead>
      <tbody id="findings" data-testid="findings-body"></tbody></table>
    <div class="pager"><button class="plain" id="prev" type="button" disabled>Previous</button><button class="plain" id="next" type="button" disabled data-testid="next-page">Next</button><span id="page-info" class="muted small"></span></div>
    <div id="object" hidden style="margin-top:1rem"></div>
  </section>
</main>
<script>
(function () {
  'use strict';
  // The verdict and mode words come from the API (the keys of the summary's counts).
  var VERDICTS = [];
  var MODES = [];
  var COLORS = { compliant: '#2e7d32', noncompliant: '#ef6c00', 'at-risk': '#c62828', exempt: '#607d8b', unauditable: '#7b1fa2' };
  var MODE_COLORS = { none: '#c62828', 'sse-s3': '#4f7cac', 'sse-kms': '#2e7d32', 'dsse-kms': '#1b5e20', 'sse-c': '#ef6c00', 'client-side': '#00838f', unknown: '#9e9e9e' };
  var SVG = 'http://www.w3.org/2000/svg';
  var STORE = 'sseguard.token';
  var token = null;
  var pages = [];  // cursors of the pages shown so far; pages[i] opens page i
  var pageIndex = 0;

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var name in (attrs || {})) {
      if (name === 'text') node.textContent = attrs[name];
      else node.setAttribute(name, attrs[name]);
    }
    (children || []).forEach(function (child) { node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child); });
    return node;
  }
  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    for (var name in attrs) node.setAttribute(name, attrs[name]);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function bytes(n) {
    var units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'], u = 0;
    while (n >= 1000 && u < units.length - 1) { n /= 1000; u++; }
    return u === 0 ? n + ' B' : n.toFixed(1) + ' ' + units[u];
  }
  function count(n) { return Number(n).toLocaleString('en-US'); }
  function pct(n) { return (Math.round(n * 10) / 10).toFixed(1) + '%'; }
  function when(iso) { return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—'; }
  function pill(verdict) { return el('span', { class: 'pill', style: 'background:' + (COLORS[verdict] || '#777'), text: verdict }); }
  function shortArn(arn) { return arn ? arn.replace(/^arn:aws[a-z-]*:kms:[^:]+:\d+:key\//, 'key/') : '—'; }

  function ApiError(status, message) { this.status = status; this.message = message; }
  function api(path) {
    return fetch(path, { headers: { authorization: 'Bearer ' + token } }).then(function (response) {
      if (response.ok) return response;
      return response.json().catch(function () { return {}; }).then(function (body) {
        throw new ApiError(response.status, (body.error && body.error.message) || ('HTTP ' + response.status));
      });
    });
  }
  function apiJson(path) { return api(path).then(function (r) { return r.json(); }); }

  function signIn(message) {
    $('app').hidden = true; $('signout').hidden = true; $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('token-input').focus();
  }
  function handleError(error) {
    if (error && error.status === 401) { sessionStorage.removeItem(STORE); signIn('The API refused the token: ' + error.message); return; }
    $('findings-error').textContent = 'Could not load: ' + (error && error.message ? error.message : String(error));
  }

  // Charts ------------------------------------------------------------------------------------
  function donut(percent) {
    var r = 42, c = 2 * Math.PI * r, box = svg('svg', { viewBox: '0 0 100 100', width: 110, height: 110, role: 'img', 'aria-label': pct(percent) + ' compliant' });
    box.appendChild(svg('circle', { cx: 50, cy: 50, r: r, fill: 'none', stroke: '#e7ebef', 'stroke-width': 12 }));
    var color = percent >= 99.95 ? COLORS.compliant : percent >= 90 ? COLORS.noncompliant : COLORS['at-risk'];
    box.appendChild(svg('circle', { cx: 50, cy: 50, r: r, fill: 'none', stroke: color, 'stroke-width': 12,
      'stroke-dasharray': (c * percent / 100) + ' ' + c, transform: 'rotate(-90 50 50)' }));
    return box;
  }
  function barChart(entries, colors, testPrefix) {
    var max = Math.max.apply(null, entries.map(function (e) { return e[1]; }).concat([1]));
    var rowH = 24, labelW = 110, width = 460, box = svg('svg', { viewBox: '0 0 ' + width + ' ' + (entries.length * rowH), width: '100%', role: 'img' });
    entries.forEach(function (entry, i) {
      var w = Math.max(entry[1] > 0 ? 2 : 0, (width - labelW - 70) * entry[1] / max), y = i * rowH;
      box.appendChild(svg('text', { x: 0, y: y + 16, class: 'bar-label' }, entry[0]));
      box.appendChild(svg('rect', { x: labelW, y: y + 4, width: w, height: rowH - 8, rx: 3, fill: colors[entry[0]] || '#4f7cac' }));
      box.appendChild(svg('text', { x: labelW + w + 6, y: y + 16, class: 'bar-label', 'data-testid': testPrefix + entry[0] }, count(entry[1])));
    });
    return box;
  }
  function stackedBar(verdicts, total) {
    var box = svg('svg', { viewBox: '0 0 200 12', width: '100%', height: 12, preserveAspectRatio: 'none', role: 'img' }), x = 0;
    VERDICTS.forEach(function (v) {
      var w = total ? 200 * (verdicts[v] || 0) / total : 0;
      if (w > 0) { var rect = svg('rect', { x: x, y: 0, width: w, height: 12, fill: COLORS[v] }); rect.appendChild(svg('title', {}, v + ': ' + count(verdicts[v]))); box.appendChild(rect); }
      x += w;
    });
    return box;
  }
  function trendChart(trend) {
    if (trend.length === 0) return el('div', { class: 'empty', text: 'No sweep runs recorded yet.' });
    var w = 320, h = 140, padL = 34, padB = 22, box = svg('svg', { viewBox: '0 0 ' + w + ' ' + h, width: '100%', role: 'img', 'aria-label': 'compliance per sweep run' });
    [0, 50, 100].forEach(function (t) {
      var y = (h - padB) * (1 - t / 100) + 4;
      box.appendChild(svg('line', { x1: padL, x2: w, y1: y, y2: y, stroke: '#e3e8ec' }));
      box.appendChild(svg('text', { x: 0, y: y + 4, class: 'axis' }, t + '%'));
    });
    var step = trend.length > 1 ? (w - padL - 8) / (trend.length - 1) : 0, points = [];
    trend.forEach(function (run, i) {
      var x = padL + 4 + i * step, y = (h - padB) * (1 - run.compliancePercent / 100) + 4;
      points.push(x + ',' + y);
      var dot = svg('circle', { cx: x, cy: y, r: 3.5, fill: '#1f5fa8', 'data-testid': 'trend-point' });
      dot.appendChild(svg('title', {}, when(run.finishedAt) + ' · ' + run.bucket + (run.prefix ? '/' + run.prefix : '') + ': ' + pct(run.compliancePercent) + ' of ' + count(run.objects)));
      box.appendChild(dot);
    });
    box.insertBefore(svg('polyline', { points: points.join(' '), fill: 'none', stroke: '#1f5fa8', 'stroke-width': 2 }), box.firstChild.nextSibling);
    box.appendChild(svg('text', { x: padL, y: h - 4, class: 'axis' }, when(trend[0].finishedAt).slice(0, 10)));
    box.appendChild(svg('text', { x: w, y: h - 4, class: 'axis', 'text-anchor': 'end' }, when(trend[trend.length - 1].finishedAt).slice(0, 10)));
    return box;
  }

  // Sections ----------------------------------------------------------------------------------
  function fill(id, node) { var target = $(id); target.textContent = ''; target.appendChild(node); }
  function renderSummary(s) {
    VERDICTS = Object.keys(s.overall.verdicts);
    MODES = Object.keys(s.overall.modes);
    $('generated').textContent = 'as of ' + when(s.generatedAt);
    fill('overall-donut', donut(s.overall.compliancePercent));
    document.querySelector('[data-testid=overall-compliance]').textContent = pct(s.overall.compliancePercent);
    document.querySelector('[data-testid=overall-objects]').textContent = count(s.overall.objects);
    document.querySelector('[data-testid=overall-bytes]').textContent = bytes(s.overall.bytes);
    var last = s.lastSweep;
    document.querySelector('[data-testid=last-sweep]').textContent = last
      ? 'Last sweep ' + when(last.finishedAt) + ': ' + last.bucket + (last.prefix ? '/' + last.prefix : '') + ', ' + count(last.objects) + ' objects'
      : 'No sweep recorded yet.';
    var cov = s.coverage;
    document.querySelector('[data-testid=coverage]').textContent = cov.bucketsSwept + ' of ' + cov.buckets + ' buckets swept whole (' + pct(cov.objectsPercent) + ' of objects)' +
      (cov.oldestSweepAt ? '; every bucket swept since ' + when(cov.oldestSweepAt) : '');
    fill('trend', trendChart(s.trend));
    fill('verdicts', barChart(VERDICTS.map(function (v) { return [v, s.overall.verdicts[v] || 0]; }), COLORS, 'verdict-count-'));
    fill('modes', barChart(MODES.map(function (m) { return [m, s.overall.modes[m] || 0]; }), MODE_COLORS, 'mode-count-'));

    if (s.buckets.length === 0) fill('buckets', el('div', { class: 'empty', text: 'No findings recorded yet: run sseguard scan.' }));
    else {
      var body = el('tbody');
      s.buckets.slice().sort(function (a, b) { return a.compliancePercent - b.compliancePercent || (a.bucket < b.bucket ? -1 : 1); }).forEach(function (b) {
        body.appendChild(el('tr', { 'data-testid': 'bucket-row', 'data-bucket': b.bucket }, [
          el('td', { text: b.bucket }), el('td', { class: 'num', 'data-testid': 'bucket-compliance', text: pct(b.compliancePercent) }),
          el('td', { style: 'width:40%' }, [stackedBar(b.verdicts, b.objects)]),
          el('td', { class: 'num', 'data-testid': 'bucket-objects', text: count(b.objects) }), el('td', { class: 'num', text: bytes(b.bytes) }),
          el('td', { class: 'small muted', text: b.lastSweepAt ? when(b.lastSweepAt) : 'never swept whole' })]));
      });
      fill('buckets', el('table', {}, [el('thead', {}, [el('tr', {}, ['bucket', 'compliant', 'verdicts', 'objects', 'bytes', 'last sweep'].map(function (h, i) { return el('th', { class: i === 1 || i === 3 || i === 4 ? 'num' : '', text: h }); }))]), body]));
    }

    if (s.atRiskKeys.length === 0) fill('atrisk', el('div', { class: 'empty', 'data-testid': 'atrisk-empty', text: 'No KMS key puts objects at risk.' }));
    else {
      var kb = el('tbody');
      s.atRiskKeys.forEach(function (k) {
        kb.appendChild(el('tr', { 'data-testid': 'atrisk-key-row', 'data-arn': k.arn }, [
          el('td', { class: 'key', title: k.arn, text: shortArn(k.arn) }),
          el('td', { text: (k.state || k.status) + (k.deletionDate ? ' (deletes ' + when(k.deletionDate).slice(0, 10) + ')' : '') }),
          el('td', { class: 'num', 'data-testid': 'atrisk-objects', text: count(k.objects) }), el('td', { class: 'num', text: bytes(k.bytes) })]));
      });
      fill('atrisk', el('table', {}, [el('thead', {}, [el('tr', {}, [el('th', { text: 'key' }), el('th', { text: 'state' }), el('th', { class: 'num', text: 'objects' }), el('th', { class: 'num', text: 'bytes' })])]), kb]));
    }

    if (s.recentRemediations.length === 0) fill('remediations', el('div', { class: 'empty', 'data-testid': 'remediations-empty', text: 'No remediations recorded yet (the policy reports only, or nothing needed fixing).' }));
    else {
      var rb = el('tbody');
      s.recentRemediations.forEach(function (r) {
        rb.appendChild(el('tr', { 'data-testid': 'remediation-row' }, [el('td', { text: when(r.at) }), el('td', { text: r.action }), el('td', { class: 'key', text: r.bucket + '/' + r.key }),
          el('td', { class: 'small', text: JSON.stringify(r.before) + ' → ' + JSON.stringify(r.after) })]));
      });
      fill('remediations', el('table', {}, [el('thead', {}, [el('tr', {}, ['when', 'action', 'object', 'before → after'].map(function (h) { return el('th', { text: h }); }))]), rb]));
    }
  }

  function option(select, value, label) { select.appendChild(el('option', { value: value, text: label || value })); }
  function renderFilterChoices(s, keys) {
    var form = $('filters');
    s.buckets.forEach(function (b) { option(form.bucket, b.bucket); });
    VERDICTS.forEach(function (v) { option(form.verdict, v); });
    MODES.forEach(function (m) { option(form.mode, m); });
    keys.forEach(function (k) { option(form.kmsKey, k.arn, shortArn(k.arn) + (k.atRisk ? ' (at risk)' : '')); });
  }

  function filterParams() {
    var form = $('filters'), params = new URLSearchParams();
    ['bucket', 'prefix', 'verdict', 'mode', 'kmsKey'].forEach(function (name) { if (form[name].value) params.set(name, form[name].value); });
    return params;
  }
  function loadFindings() {
    var params = filterParams();
    params.set('limit', $('filters').limit.value);
    if (pages[pageIndex]) params.set('cursor', pages[pageIndex]);
    $('findings-error').textContent = '';
    return apiJson('/findings?' + params).then(function (page) {
      var body = $('findings'); body.textContent = '';
      if (page.findings.length === 0) body.appendChild(el('tr', {}, [el('td', { colspan: 8, class: 'empty', 'data-testid': 'findings-empty', text: 'No findings match these filters.' })]));
      page.findings.forEach(function (f) {
        var row = el('tr', { class: 'clickable', 'data-testid': 'finding-row', 'data-bucket': f.bucket, 'data-key': f.key, 'data-verdict': f.verdict }, [
          el('td', {}, [pill(f.verdict)]), el('td', { text: f.bucket }), el('td', { class: 'key', text: f.key }), el('td', { text: f.mode || 'unknown' }),
          el('td', { class: 'key small', title: f.kmsKeyArn || '', text: f.kmsKeyArn ? shortArn(f.kmsKeyArn) : '—' }),
          el('td', { class: 'small', title: f.reasons.map(function (r) { return r.message; }).join('\n'), text: f.reasons.map(function (r) { return r.code; }).join(', ') || '—' }),
          el('td', { class: 'num', text: bytes(f.size) }), el('td', { class: 'small', text: when(f.auditedAt) })]);
        row.addEventListener('click', function () { showObject(f.bucket, f.key); });
        body.appendChild(row);
      });
      pages[pageIndex + 1] = page.nextCursor;
      pages.length = pageIndex + 2;
      $('prev').disabled = pageIndex === 0;
      $('next').disabled = !page.nextCursor;
      $('page-info').textContent = 'page ' + (pageIndex + 1) + (page.nextCursor ? '' : ' (last)');
    }).catch(handleError);
  }
  function showObject(bucket, key) {
    apiJson('/objects/' + encodeURIComponent(bucket) + '/' + encodeURIComponent(key)).then(function (o) {
      var box = $('object'); box.hidden = false; box.textContent = '';
      box.appendChild(el('h2', { text: 'History of ' + bucket + '/' + key }));
      var tb = el('tbody');
      o.history.slice().reverse().forEach(function (h) {
        tb.appendChild(el('tr', {}, [el('td', { text: when(h.auditedAt) }), el('td', {}, [pill(h.verdict)]), el('td', { text: h.mode || 'unknown' }),
          el('td', { class: 'small', text: h.reasons.map(function (r) { return r.code; }).join(', ') || '—' }),
          el('td', { class: 'small', text: h.remediation ? h.remediation.action + ': ' + JSON.stringify(h.remediation.before) + ' → ' + JSON.stringify(h.remediation.after) : '' })]));
      });
      box.appendChild(el('table', { 'data-testid': 'object-history' }, [el('thead', {}, [el('tr', {}, ['audited', 'verdict', 'mode', 'reasons', 'remediation'].map(function (h) { return el('th', { text: h }); }))]), tb]));
      box.scrollIntoView({ block: 'nearest' });
    }).catch(handleError);
  }

  // Exports follow the API's Link: rel="next" when a transport cut the response into pages.
  function download(format) {
    var parts = [], first = true;
    function next(url) {
      return api(url).then(function (response) {
        var link = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') || '');
        return response.text().then(function (text) {
          if (format === 'json') { parts = parts.concat(JSON.parse(text).findings); }
          else { parts.push(first ? text : text.slice(text.indexOf('\n') + 1)); }
          first = false;
          return link ? next(link[1]) : null;
        });
      });
    }
    next('/export.' + format + '?' + filterParams()).then(function () {
      var blob = format === 'json' ? new Blob([JSON.stringify({ findings: parts })], { type: 'application/json' }) : new Blob(parts, { type: 'text/csv' });
      var a = el('a', { href: URL.createObjectURL(blob), download: 'sseguard-findings.' + format });
      document.body.appendChild(a); a.click(); a.remove();
    }).catch(handleError);
  }

  function start() {
    $('login').hidden = true; $('app').hidden = false; $('signout').hidden = false;
    Promise.all([apiJson('/summary'), apiJson('/keys')]).then(function (results) {
      renderSummary(results[0]);
      renderFilterChoices(results[0], results[1].keys);
      return loadFindings();
    }).then(function () { document.body.setAttribute('data-ready', 'true'); }).catch(handleError);
  }

  $('filters').addEventListener('submit', function (event) { event.preventDefault(); pages = []; pageIndex = 0; loadFindings(); });
  $('next').addEventListener('click', function () { pageIndex++; loadFindings(); });
  $('prev').addEventListener('click', function () { pageIndex = Math.max(0, pageIndex - 1); loadFindings(); });
  $('export-csv').addEventListener('click', function () { download('csv'); });
  $('export-json').addEventListener('click', function () { download('json'); });
  $('signout').addEventListener('click', function () { sessionStorage.removeItem(STORE); token = null; signIn(''); });
  $('login-form').addEventListener('submit', function (event) {
    event.preventDefault();
    token = $('token-input').value.trim();
    if (!token) return;
    sessionStorage.setItem(STORE, token);
    start();
  });

  // A token in the fragment is taken once and removed from the address bar and history.
  var fromFragment = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (fromFragment) { sessionStorage.setItem(STORE, decodeURIComponent(fromFragment[1])); history.replaceState(null, '', location.pathname + location.search); }
  token = sessionStorage.getItem(STORE);
  if (token) start(); else signIn('');
})();
</script>
</body>
</html>
`;
