// @ts-check
// The dashboard's script: plain browser JavaScript (no build step, no dependency), type-checked
// against the DOM and against the API's own response schemas (shared/report/schemas.ts) by
// `npm run typecheck` (./tsconfig.json). Inlined into the page (../dashboard-page.ts) at bundle time.

/** @typedef {import('zod').infer<typeof import('../schemas.ts').summarySchema>} Summary */
/** @typedef {import('zod').infer<typeof import('../schemas.ts').keysSchema>} Keys */
/** @typedef {import('zod').infer<typeof import('../schemas.ts').findingsPageSchema>} FindingsPage */
/** @typedef {import('zod').infer<typeof import('../schemas.ts').objectSchema>} ObjectView */
/** @typedef {Summary['trend'][number]} TrendRun */
/** @typedef {import('zod').infer<typeof import('../schemas.ts').remediationsPageSchema>} RemediationsPage */
/** @typedef {import('zod').infer<typeof import('../deliveries.ts').deliveriesSchema>} Deliveries */
/** @typedef {Record<string, string | number | undefined>} Attributes */
/** @typedef {import('zod').infer<typeof import('../schemas.ts').accountsSchema>} Accounts */
/** @typedef {HTMLFormElement & Record<'bucket' | 'prefix' | 'verdict' | 'mode' | 'kmsKey' | 'account' | 'limit', HTMLInputElement & HTMLSelectElement>} FiltersForm */

(function () {
  'use strict';
  // The verdict and mode words come from the API (the keys of the summary's counts).
  /** @type {string[]} */
  var VERDICTS = [];
  /** @type {string[]} */
  var MODES = [];
  /** @type {Record<string, string>} */
  var COLORS = { compliant: '#2e7d32', noncompliant: '#ef6c00', 'at-risk': '#c62828', exempt: '#607d8b', unauditable: '#7b1fa2' };
  /** @type {Record<string, string>} */
  var MODE_COLORS = { none: '#c62828', 'sse-s3': '#4f7cac', 'sse-kms': '#2e7d32', 'dsse-kms': '#1b5e20', 'sse-c': '#ef6c00', 'client-side': '#00838f', unknown: '#9e9e9e' };
  var SVG = 'http://www.w3.org/2000/svg';
  var STORE = 'sseguard.token';
  /** @type {string | null} */
  var token = null;
  /** @type {(string | null | undefined)[]} */
  var pages = [];  // cursors of the pages shown so far; pages[i] opens page i
  var pageIndex = 0;
  /** @type {Record<string, string[]>} alias names per key ARN, from /keys */
  var ALIASES = {};
  /** @type {TrendRun[]} */
  var TREND = [];
  /** @type {(string | null)[]} cursors of the change log's pages shown so far */
  var logPages = [null];

  /** An element of the page, which the markup always has. @param {string} id @returns {HTMLElement} */
  function $(id) {
    var node = document.getElementById(id);
    if (!node) throw new Error('the page has no #' + id);
    return node;
  }
  /** @param {string} id */
  function input(id) { return /** @type {HTMLInputElement} */ ($(id)); }
  /** @param {string} id */
  function button(id) { return /** @type {HTMLButtonElement} */ ($(id)); }
  function filtersForm() { return /** @type {FiltersForm} */ ($('filters')); }
  /** @param {string} testId @param {string} text */
  function setTestText(testId, text) {
    var node = document.querySelector('[data-testid=' + testId + ']');
    if (node) node.textContent = text;
  }
  /**
   * @template {keyof HTMLElementTagNameMap} K
   * @param {K} tag @param {Attributes} [attrs] @param {(Node | string)[]} [children]
   * @returns {HTMLElementTagNameMap[K]}
   */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    var given = attrs || {};
    for (var name in given) {
      if (name === 'text') node.textContent = String(given[name]);
      else node.setAttribute(name, String(given[name]));
    }
    (children || []).forEach(function (child) { node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child); });
    return node;
  }
  /** @param {string} tag @param {Attributes} attrs @param {string} [text] @returns {SVGElement} */
  function svg(tag, attrs, text) {
    var node = /** @type {SVGElement} */ (document.createElementNS(SVG, tag));
    for (var name in attrs) node.setAttribute(name, String(attrs[name]));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  /** @param {number} n */
  function bytes(n) {
    var units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'], u = 0;
    while (n >= 1000 && u < units.length - 1) { n /= 1000; u++; }
    return u === 0 ? n + ' B' : n.toFixed(1) + ' ' + units[u];
  }
  /** @param {number} n */
  function count(n) { return Number(n).toLocaleString('en-US'); }
  /** @param {number} n */
  function pct(n) { return (Math.round(n * 10) / 10).toFixed(1) + '%'; }
  /** @param {string | null | undefined} iso */
  function when(iso) { return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—'; }
  /** @param {string} verdict */
  function pill(verdict) { return el('span', { class: 'pill', style: 'background:' + (COLORS[verdict] || '#777'), text: verdict }); }
  /** @param {string | null | undefined} arn */
  function shortArn(arn) { return arn ? arn.replace(/^arn:aws[a-z-]*:kms:[^:]+:\d+:key\//, 'key/') : '—'; }
  /** A key as people name it: its aliases when known, else key/<id>. @param {string | null | undefined} arn */
  function keyName(arn) { var names = arn ? ALIASES[arn] : undefined; return names && names.length ? names.join(', ') : shortArn(arn); }

  class ApiError extends Error {
    /** @param {number} status @param {string} message @param {string} path */
    constructor(status, message, path) { super(message); this.status = status; this.path = path; }
  }
  /** @param {string} path @returns {Promise<Response>} */
  function api(path) {
    var route = path.split('?')[0] || path;
    return fetch(path, { headers: { authorization: 'Bearer ' + token } }).then(function (response) {
      if (response.ok) return response;
      return response.json().catch(function () { return {}; }).then(/** @param {{ error?: { message?: string } }} body */ function (body) {
        throw new ApiError(response.status, 'HTTP ' + response.status + ': ' + ((body.error && body.error.message) || response.statusText || 'no message'), route);
      });
    }, /** @param {unknown} error */ function (error) {
      // fetch rejects only when no answer came at all: the server is down or unreachable.
      throw new ApiError(0, 'the report API did not answer (' + (error instanceof Error ? error.message : String(error)) + ')', route);
    });
  }
  /** @template T @param {string} path @returns {Promise<T>} */
  function apiJson(path) { return api(path).then(function (r) { return r.json(); }); }

  /** @param {string} message */
  function signIn(message) {
    $('app').hidden = true; $('signout').hidden = true; $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('token-input').focus();
  }
  /** @param {unknown} error */
  function handleError(error) {
    if (error instanceof ApiError && error.status === 401) { sessionStorage.removeItem(STORE); signIn('The API refused the token: ' + error.message); return; }
    showFailure(error);
  }
  /** Every failed call is said in the banner at the top, one line per route. @param {unknown} error */
  function showFailure(error) {
    var banner = $('error-banner'), list = $('error-list');
    var line = error instanceof ApiError ? 'Could not load ' + error.path + ': ' + error.message : 'Could not load: ' + (error instanceof Error ? error.message : String(error));
    var known = Array.prototype.some.call(list.childNodes, /** @param {Node} node */ function (node) { return node.textContent === line; });
    if (!known) list.appendChild(el('li', { 'data-testid': 'error-line', text: line }));
    banner.hidden = false;
  }
  /** A card whose data did not come: says so, so that it never reads as "nothing there". @param {string[]} ids */
  function markUnavailable(ids) {
    ids.forEach(function (id) { fill(id, el('div', { class: 'unavailable', 'data-testid': 'card-unavailable', text: 'Not available: the report API call failed (see the banner above).' })); });
  }
  var SUMMARY_CARDS = ['overall-card', 'last-sweep-card', 'trend', 'verdicts', 'modes', 'buckets', 'atrisk', 'remediations'];

  // Charts ------------------------------------------------------------------------------------
  /** @param {number} percent */
  function donut(percent) {
    var r = 42, c = 2 * Math.PI * r, box = svg('svg', { viewBox: '0 0 100 100', width: 110, height: 110, role: 'img', 'aria-label': pct(percent) + ' compliant' });
    box.appendChild(svg('circle', { cx: 50, cy: 50, r: r, fill: 'none', stroke: '#e7ebef', 'stroke-width': 12 }));
    var color = percent >= 99.95 ? COLORS.compliant : percent >= 90 ? COLORS.noncompliant : COLORS['at-risk'];
    box.appendChild(svg('circle', { cx: 50, cy: 50, r: r, fill: 'none', stroke: color, 'stroke-width': 12,
      'stroke-dasharray': (c * percent / 100) + ' ' + c, transform: 'rotate(-90 50 50)' }));
    return box;
  }
  /** @param {[string, number][]} entries @param {Record<string, string>} colors @param {string} testPrefix */
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
  /** @param {Partial<Record<string, number>>} verdicts @param {number} total */
  function stackedBar(verdicts, total) {
    var box = svg('svg', { viewBox: '0 0 200 12', width: '100%', height: 12, preserveAspectRatio: 'none', role: 'img' }), x = 0;
    VERDICTS.forEach(function (v) {
      var w = total ? 200 * (verdicts[v] || 0) / total : 0;
      if (w > 0) { var rect = svg('rect', { x: x, y: 0, width: w, height: 12, fill: COLORS[v] }); rect.appendChild(svg('title', {}, v + ': ' + count(verdicts[v] || 0))); box.appendChild(rect); }
      x += w;
    });
    return box;
  }
  /**
   * Labels for runs' times that tell them apart: the day when every run has its own day, else the
   * day and minute, else down to the second.
   * @param {string[]} isos
   */
  function distinctLabels(isos) {
    /** @param {number} length */
    function cut(length) { return isos.map(function (iso) { return when(iso).slice(0, length).replace(/Z$/, '') + (length < 19 ? '' : 'Z'); }); }
    var lengths = [10, 16, 19];
    for (var i = 0; i < lengths.length; i++) {
      var labels = cut(/** @type {number} */ (lengths[i]));
      if (new Set(labels).size === labels.length) return lengths[i] === 10 ? labels : labels.map(function (l) { return l.replace(/Z?$/, ' UTC'); });
    }
    return isos.map(when);
  }
  /** @param {string} scope */
  function scopeName(scope) { return scope === '(sweep)' ? 'all buckets (scheduled sweep)' : scope; }
  /** The runs of one scope (bucket, bucket/prefix, or the scheduled sweep), oldest first. @param {TrendRun[]} trend */
  function trendChart(trend) {
    if (trend.length === 0) return el('div', { class: 'empty', 'data-testid': 'trend-empty', text: 'No run that audited objects is recorded for this scope yet.' });
    var w = 320, h = 150, padL = 34, padB = 32, box = svg('svg', { viewBox: '0 0 ' + w + ' ' + h, width: '100%', role: 'img', 'aria-label': 'compliance per run of ' + scopeName(trend[0] ? trend[0].scope : '') });
    var plotH = h - padB;
    [0, 50, 100].forEach(function (t) {
      var y = plotH * (1 - t / 100) + 4;
      box.appendChild(svg('line', { x1: padL, x2: w, y1: y, y2: y, stroke: '#e3e8ec' }));
      box.appendChild(svg('text', { x: 0, y: y + 4, class: 'axis' }, t + '%'));
    });
    var step = trend.length > 1 ? (w - padL - 8) / (trend.length - 1) : 0;
    var labels = distinctLabels(trend.map(function (run) { return run.finishedAt; }));
    /** @type {string[]} */
    var points = [];
    /** @param {number} i */
    function xOf(i) { return trend.length > 1 ? padL + 4 + i * step : padL + (w - padL) / 2; }
    trend.forEach(function (run, i) {
      var x = xOf(i), y = plotH * (1 - run.compliancePercent / 100) + 4;
      points.push(x + ',' + y);
      var dot = svg('circle', { cx: x, cy: y, r: 3.5, fill: '#1f5fa8', 'data-testid': 'trend-point' });
      dot.appendChild(svg('title', {}, labels[i] + ' · ' + scopeName(run.scope) + ': ' + pct(run.compliancePercent) + ' of ' + count(run.objects) + ' objects'));
      box.appendChild(dot);
    });
    box.insertBefore(svg('polyline', { points: points.join(' '), fill: 'none', stroke: '#1f5fa8', 'stroke-width': 2 }), box.firstChild ? box.firstChild.nextSibling : null);
    // At most three time labels (first, middle, last), each distinct, so none overlaps or repeats.
    var shown = trend.length <= 2 ? trend.map(function (_run, i) { return i; }) : [0, Math.floor((trend.length - 1) / 2), trend.length - 1];
    if (labels[0] && labels[0].length > 10 && trend.length > 2) shown = [0, trend.length - 1];
    shown.forEach(function (i, n) {
      var anchor = shown.length === 1 ? 'middle' : n === 0 ? 'start' : n === shown.length - 1 ? 'end' : 'middle';
      box.appendChild(svg('text', { x: anchor === 'start' ? padL : anchor === 'end' ? w : xOf(i), y: h - 14, class: 'axis', 'text-anchor': anchor, 'data-testid': 'trend-label' }, labels[i] || ''));
    });
    var last = trend[trend.length - 1];
    if (last) box.appendChild(svg('text', { x: w, y: h - 1, class: 'axis', 'text-anchor': 'end' }, 'latest: ' + pct(last.compliancePercent) + ' of ' + count(last.objects)));
    return box;
  }
  /** The scope selector and the chart of the scope chosen. @param {string} [chosen] */
  function renderTrend(chosen) {
    /** @type {string[]} */
    var scopes = [];
    // The scope run most recently first: it is what a person just did.
    TREND.slice().reverse().forEach(function (run) { if (scopes.indexOf(run.scope) < 0) scopes.push(run.scope); });
    var select = /** @type {HTMLSelectElement} */ ($('trend-scope'));
    if (select.options.length !== scopes.length) {
      select.textContent = '';
      scopes.forEach(function (scope) { option(select, scope, scopeName(scope)); });
    }
    $('trend-scope-label').hidden = scopes.length === 0;
    var scope = chosen || scopes[0] || '';
    select.value = scope;
    fill('trend', trendChart(TREND.filter(function (run) { return run.scope === scope; })));
  }

  // Sections ----------------------------------------------------------------------------------
  /** @param {string} id @param {Node} node */
  function fill(id, node) { var target = $(id); target.textContent = ''; target.appendChild(node); }
  /** @param {Summary} s */
  function renderSummary(s) {
    VERDICTS = Object.keys(s.overall.verdicts);
    MODES = Object.keys(s.overall.modes);
    $('generated').textContent = 'as of ' + when(s.generatedAt);
    fill('overall-donut', donut(s.overall.compliancePercent));
    setTestText('overall-compliance', pct(s.overall.compliancePercent));
    setTestText('overall-objects', count(s.overall.objects));
    setTestText('overall-bytes', bytes(s.overall.bytes));
    var last = s.lastSweep;
    setTestText('last-sweep', last
      ? 'Last sweep ' + when(last.finishedAt) + ': ' + last.bucket + (last.prefix ? '/' + last.prefix : '') + ', ' + count(last.objects) + ' objects' +
        (last.objects === 0 ? ' (it audited nothing, so it proves nothing and is not plotted)' : '')
      : 'No sweep recorded yet.');
    var cov = s.coverage;
    setTestText('coverage', cov.bucketsSwept + ' of ' + cov.buckets + ' buckets swept whole (' + pct(cov.objectsPercent) + ' of objects)' +
      (cov.oldestSweepAt ? '; every bucket swept since ' + when(cov.oldestSweepAt) : ''));
    // Each scope is its own line: a run over one prefix says nothing about the whole bucket.
    TREND = s.trend;
    renderTrend();
    /** @type {Record<string, number>} */
    var verdictCounts = s.overall.verdicts;
    /** @type {Record<string, number>} */
    var modeCounts = s.overall.modes;
    fill('verdicts', barChart(VERDICTS.map(function (v) { return /** @type {[string, number]} */ ([v, verdictCounts[v] || 0]); }), COLORS, 'verdict-count-'));
    fill('modes', barChart(MODES.map(function (m) { return /** @type {[string, number]} */ ([m, modeCounts[m] || 0]); }), MODE_COLORS, 'mode-count-'));

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
          el('td', { class: 'key', title: k.arn, 'data-testid': 'atrisk-key-name', text: k.aliases.length ? k.aliases.join(', ') : shortArn(k.arn) }),
          el('td', { text: (k.state || k.status) + (k.deletionDate ? ' (deletes ' + when(k.deletionDate).slice(0, 10) + ')' : '') }),
          el('td', { class: 'num', 'data-testid': 'atrisk-objects', text: count(k.objects) }), el('td', { class: 'num', text: bytes(k.bytes) })]));
      });
      fill('atrisk', el('table', {}, [el('thead', {}, [el('tr', {}, [el('th', { text: 'key' }), el('th', { text: 'state' }), el('th', { class: 'num', text: 'objects' }), el('th', { class: 'num', text: 'bytes' })])]), kb]));
    }

    if (s.recentRemediations.length === 0) fill('remediations', el('div', { class: 'empty', 'data-testid': 'remediations-empty', text: 'No remediations recorded yet (the policy reports only, or nothing needed fixing).' }));
    else fill('remediations', remediationTable(s.recentRemediations, 'remediation-row'));
    $('remediation-log-link').hidden = s.recentRemediations.length === 0;
  }

  /** Fixes in words, one row each. @param {Summary['recentRemediations']} rows @param {string} testId */
  function remediationTable(rows, testId) {
    var rb = el('tbody');
    rows.forEach(function (r) {
      rb.appendChild(el('tr', { 'data-testid': testId }, [el('td', { class: 'small', text: when(r.at) }), el('td', { class: 'key', text: r.bucket + '/' + r.key }),
        el('td', { 'data-testid': 'remediation-change', text: r.description }),
        el('td', { class: 'small' }, [el('span', { class: 'pill', style: 'background:' + (r.outcome === 'fixed' ? COLORS.compliant : COLORS.noncompliant), text: r.outcome })]),
        el('td', { class: 'small muted', text: r.action })]));
    });
    return el('table', {}, [el('thead', {}, [el('tr', {}, ['when', 'object', 'change', 'outcome', 'fix'].map(function (h) { return el('th', { text: h }); }))]), rb]);
  }

  /** What was sent where (GET /deliveries): one row per destination, and what waits in the outbox. @param {Deliveries} d */
  function renderDeliveries(d) {
    if (d.destinations.length === 0 && d.pending === 0) {
      fill('deliveries', el('div', { class: 'empty', text: 'Nothing has been pushed: set SSEGUARD_EVENT_BUS or SSEGUARD_SECURITY_HUB=on on the stage (or scan --event-bus/--security-hub).' }));
      return;
    }
    var rows = el('tbody');
    d.destinations.forEach(function (x) {
      var failing = (x.lastRunFailed || 0) > 0;
      rows.appendChild(el('tr', { 'data-testid': 'delivery-row' }, [
        el('td', { text: x.name === 'securityhub' ? 'Security Hub' : x.name === 'eventbridge' ? 'EventBridge' : x.name }),
        el('td', { class: 'small', 'data-testid': 'delivery-last-push', text: when(x.lastPushAt) }),
        el('td', { class: 'small', text: when(x.lastRunAt) + (x.lastRunBy ? ' (' + x.lastRunBy + ')' : '') }),
        el('td', { class: 'num', text: String(x.lastRunDelivered || 0) }),
        el('td', { class: 'num' }, [el('span', { class: failing ? 'pill' : '', style: failing ? 'background:' + COLORS.noncompliant : '', text: String(x.lastRunFailed || 0) })]),
        el('td', { class: 'num', 'data-testid': 'delivery-pending', text: String(x.pending) }),
        el('td', { class: 'small', text: when(x.lastFailureAt) }),
      ]));
    });
    var table = el('table', {}, [el('thead', {}, [el('tr', {}, ['destination', 'last push', 'last run', 'sent', 'failed', 'waiting', 'last failure'].map(function (h) { return el('th', { text: h }); }))]), rows]);
    var waiting = d.pending + ' change' + (d.pending === 1 ? '' : 's') + ' waiting in the outbox' + (d.oldestPendingAt ? ', oldest ' + when(d.oldestPendingAt) : '') +
      (d.deliverer ? '; ' + d.deliverer.holder + ' is sending now' : '') + '.';
    fill('deliveries', el('div', {}, [table, el('p', { class: 'small muted', 'data-testid': 'deliveries-waiting', text: waiting })]));
  }

  /** The whole change log, a page at a time, newest first. @param {number} index */
  function loadRemediationLog(index) {
    var cursor = logPages[index];
    return apiJson('/remediations?limit=25' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '')).then(/** @param {RemediationsPage} page */ function (page) {
      var box = $('remediation-log'); box.hidden = false;
      fill('remediation-log-rows', page.remediations.length ? remediationTable(page.remediations, 'remediation-log-row') : el('div', { class: 'empty', text: 'The change log is empty.' }));
      logPages[index + 1] = page.nextCursor;
      logPages.length = index + 2;
      button('log-older').disabled = !page.nextCursor;
      button('log-newer').disabled = index === 0;
      button('log-older').onclick = function () { loadRemediationLog(index + 1); };
      button('log-newer').onclick = function () { loadRemediationLog(Math.max(0, index - 1)); };
      $('log-page-info').textContent = 'page ' + (index + 1) + (page.nextCursor ? '' : ' (oldest)');
      box.scrollIntoView({ block: 'nearest' });
    }).catch(function (error) { markUnavailable(['remediation-log-rows']); $('remediation-log').hidden = false; handleError(error); });
  }

  /** @param {HTMLSelectElement} select @param {string} value @param {string} [label] */
  function option(select, value, label) { select.appendChild(el('option', { value: value, text: label || value })); }
  /** @param {Summary} s @param {Keys['keys']} keys */
  function renderFilterChoices(s, keys) {
    var form = filtersForm();
    s.buckets.forEach(function (b) { option(form.bucket, b.bucket); });
    VERDICTS.forEach(function (v) { option(form.verdict, v); });
    MODES.forEach(function (m) { option(form.mode, m); });
    keys.forEach(function (k) { option(form.kmsKey, k.arn, (k.aliases.length ? k.aliases.join(', ') : shortArn(k.arn)) + (k.atRisk ? ' (at risk)' : '')); });
  }

  function filterParams() {
    var form = filtersForm(), params = new URLSearchParams();
    /** @type {('bucket' | 'prefix' | 'verdict' | 'mode' | 'kmsKey' | 'account')[]} */
    var names = ['bucket', 'prefix', 'verdict', 'mode', 'kmsKey', 'account'];
    names.forEach(function (name) { if (form[name].value) params.set(name, form[name].value); });
    return params;
  }
  function loadFindings() {
    var params = filterParams();
    params.set('limit', filtersForm().limit.value);
    var cursor = pages[pageIndex];
    if (cursor) params.set('cursor', cursor);
    return apiJson('/findings?' + params).then(/** @param {FindingsPage} page */ function (page) {
      var body = $('findings'); body.textContent = '';
      if (page.findings.length === 0) body.appendChild(el('tr', {}, [el('td', { colspan: 8, class: 'empty', 'data-testid': 'findings-empty', text: 'No findings match these filters.' })]));
      page.findings.forEach(function (f) {
        var row = el('tr', { class: 'clickable', 'data-testid': 'finding-row', 'data-bucket': f.bucket, 'data-key': f.key, 'data-verdict': f.verdict }, [
          el('td', {}, [pill(f.verdict)]), el('td', { text: f.bucket }), el('td', { class: 'key', text: f.key }), el('td', { text: f.mode || 'unknown' }),
          el('td', { class: 'key small', title: f.kmsKeyArn || '', text: f.kmsKeyArn ? keyName(f.kmsKeyArn) : '—' }),
          el('td', { class: 'small', title: f.reasons.map(function (r) { return r.message; }).join('\n'), text: f.reasons.map(function (r) { return r.code; }).join(', ') || '—' }),
          el('td', { class: 'num', text: bytes(f.size) }), el('td', { class: 'small', title: f.policy ? 'judged under policy ' + f.policy.hash + ' (version ' + f.policy.version + ')' : 'policy not recorded', 'data-policy': f.policy ? f.policy.hash : '', text: when(f.auditedAt) })]);
        row.addEventListener('click', function () { showObject(f.bucket, f.key); });
        body.appendChild(row);
      });
      pages[pageIndex + 1] = page.nextCursor;
      pages.length = pageIndex + 2;
      button('prev').disabled = pageIndex === 0;
      button('next').disabled = !page.nextCursor;
      $('page-info').textContent = 'page ' + (pageIndex + 1) + (page.nextCursor ? '' : ' (last)');
    }).catch(function (error) {
      var body = $('findings'); body.textContent = '';
      body.appendChild(el('tr', {}, [el('td', { colspan: 8, class: 'unavailable', 'data-testid': 'card-unavailable', text: 'Not available: the report API call failed (see the banner above).' })]));
      handleError(error);
    });
  }
  /** @param {string} bucket @param {string} key */
  function showObject(bucket, key) {
    apiJson('/objects/' + encodeURIComponent(bucket) + '/' + encodeURIComponent(key)).then(/** @param {ObjectView} o */ function (o) {
      var box = $('object'); box.hidden = false; box.textContent = '';
      box.appendChild(el('h2', { text: 'History of ' + bucket + '/' + key }));
      var judged = o.state && o.state.policy;
      box.appendChild(el('p', { class: 'small muted', 'data-testid': 'object-policy', text: judged ? 'Judged under policy ' + judged.hash + ' (version ' + judged.version + ')' : 'The policy that judged it was not recorded (an older finding).' }));
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
  /** @param {'csv' | 'json'} format */
  function download(format) {
    /** @type {unknown[]} */
    var parts = [];
    var first = true;
    /** @param {string} url @returns {Promise<null>} */
    function next(url) {
      return api(url).then(function (response) {
        var link = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') || '');
        return response.text().then(function (text) {
          if (format === 'json') { parts = parts.concat(JSON.parse(text).findings); }
          else { parts.push(first ? text : text.slice(text.indexOf('\n') + 1)); }
          first = false;
          return link && link[1] ? next(link[1]) : null;
        });
      });
    }
    next('/export.' + format + '?' + filterParams()).then(function () {
      var blob = format === 'json' ? new Blob([JSON.stringify({ findings: parts })], { type: 'application/json' }) : new Blob(/** @type {string[]} */ (parts), { type: 'text/csv' });
      var a = el('a', { href: URL.createObjectURL(blob), download: 'sseguard-findings.' + format });
      document.body.appendChild(a); a.click(); a.remove();
    }).catch(handleError);
  }

  // Accounts (GET /accounts) ------------------------------------------------------------------
  /** Lists the findings of one account: the filter is set, the first page loaded. @param {string} account */
  function showAccountFindings(account) {
    var form = filtersForm();
    form.account.value = account;
    pages = []; pageIndex = 0;
    loadFindings();
    $('findings').scrollIntoView({ block: 'start' });
  }
  /** @param {Accounts['accounts'][number]['coverage']} c */
  function coverageText(c) {
    if (c.status === 'none') return 'no account run recorded';
    var what = c.status === 'covered' ? 'covered' : c.status === 'partial' ? 'partly covered' : 'NOT covered';
    return what + (c.prefix ? ' (keys under ' + c.prefix + ' only)' : '') + (c.runAt ? ' ' + when(c.runAt) : '') + (c.gaps.length ? ': ' + c.gaps.map(function (g) { return (g.bucket ? g.bucket + ': ' : '') + g.reason; }).join('; ') : '');
  }
  /** @param {Accounts} a */
  function renderAccounts(a) {
    var form = filtersForm();
    a.accounts.forEach(function (acc) { option(form.account, acc.account); });
    if (a.accounts.length === 0) { fill('accounts', el('div', { class: 'empty', 'data-testid': 'accounts-empty', text: 'No finding names an account yet: run sseguard scan.' })); return; }
    var body = el('tbody');
    a.accounts.forEach(function (acc) {
      var link = el('a', { href: '#findings', 'data-testid': 'account-findings-link', text: acc.account });
      link.addEventListener('click', function (event) { event.preventDefault(); showAccountFindings(acc.account); });
      body.appendChild(el('tr', { 'data-testid': 'account-row', 'data-account': acc.account, 'data-coverage': acc.coverage.status, class: acc.coverage.status === 'gap' ? 'gap' : '' }, [
        el('td', {}, [link]),
        el('td', { class: 'num', 'data-testid': 'account-unproven', text: count(acc.unproven) }),
        el('td', { class: 'num', 'data-testid': 'account-at-risk', text: count(acc.verdicts['at-risk'] || 0) }),
        el('td', { class: 'num', text: acc.objects ? pct(acc.compliancePercent) : '—' }),
        el('td', { style: 'width:22%' }, [stackedBar(acc.verdicts, acc.objects)]),
        el('td', { class: 'num', text: count(acc.objects) }), el('td', { class: 'num', text: bytes(acc.bytes) }),
        el('td', { class: 'small', 'data-testid': 'account-keys', text: acc.atRiskKeys.map(function (k) { return (k.aliases.length ? k.aliases.join(', ') : shortArn(k.arn)) + ' (' + count(k.objects) + ')'; }).join(', ') || '—' }),
        el('td', { class: 'small' + (acc.coverage.status === 'gap' ? ' error' : ''), 'data-testid': 'account-coverage', text: coverageText(acc.coverage) })]));
    });
    var heads = ['account', 'not proven', 'at-risk', 'compliant', 'verdicts', 'objects', 'bytes', 'at-risk keys it owns', 'coverage (newest account run)'];
    fill('accounts', el('table', {}, [el('thead', {}, [el('tr', {}, heads.map(function (h, i) { return el('th', { class: i >= 1 && i <= 3 || i === 5 || i === 6 ? 'num' : '', text: h }); }))]), body]));
  }

  function start() {
    $('login').hidden = true; $('app').hidden = false; $('signout').hidden = false;
    $('error-list').textContent = ''; $('error-banner').hidden = true;
    var summary = /** @type {Promise<Summary>} */ (apiJson('/summary'));
    var keys = /** @type {Promise<Keys>} */ (apiJson('/keys'));
    var accounts = /** @type {Promise<Accounts>} */ (apiJson('/accounts'));
    // Each call fails on its own: a failed one says so in the banner and on the cards it feeds.
    var summaryShown = summary.then(renderSummary, function (error) { markUnavailable(SUMMARY_CARDS); setTestText('overall-compliance', '—'); handleError(error); });
    var shown = Promise.all([
      summaryShown,
      keys.then(function (k) { k.keys.forEach(function (key) { ALIASES[key.arn] = key.aliases; }); }, handleError),
      // After the summary: its verdict words colour the accounts' bars.
      summaryShown.then(function () { return accounts; }).then(renderAccounts, function (error) { markUnavailable(['accounts']); handleError(error); }),
      /** @type {Promise<Deliveries>} */ (apiJson('/deliveries')).then(renderDeliveries, function (error) { markUnavailable(['deliveries']); handleError(error); }),
    ]).then(function () {
      return Promise.all([summary, keys]).then(function (results) { renderFilterChoices(results[0], results[1].keys); }, function () {});
    }).then(function () { return loadFindings(); });
    shown.then(function () {
      document.body.setAttribute('data-state', $('error-banner').hidden ? 'ok' : 'error');
      document.body.setAttribute('data-ready', 'true');
    });
  }

  $('trend-scope').addEventListener('change', function () { renderTrend(/** @type {HTMLSelectElement} */ ($('trend-scope')).value); });
  $('remediation-log-link').addEventListener('click', function (event) { event.preventDefault(); logPages = [null]; loadRemediationLog(0); });
  $('filters').addEventListener('submit', function (event) { event.preventDefault(); pages = []; pageIndex = 0; loadFindings(); });
  $('next').addEventListener('click', function () { pageIndex++; loadFindings(); });
  $('prev').addEventListener('click', function () { pageIndex = Math.max(0, pageIndex - 1); loadFindings(); });
  $('export-csv').addEventListener('click', function () { download('csv'); });
  $('export-json').addEventListener('click', function () { download('json'); });
  // The evidence pack's document (GET /evidence): fetched with the token, saved as a file.
  $('evidence-json').addEventListener('click', function () {
    api('/evidence').then(function (response) { return response.blob(); }).then(function (blob) {
      var a = el('a', { href: URL.createObjectURL(blob), download: 'sseguard-evidence.json' });
      document.body.appendChild(a); a.click(); a.remove();
    }).catch(handleError);
  });
  $('signout').addEventListener('click', function () { sessionStorage.removeItem(STORE); token = null; signIn(''); });
  $('login-form').addEventListener('submit', function (event) {
    event.preventDefault();
    token = input('token-input').value.trim();
    if (!token) return;
    sessionStorage.setItem(STORE, token);
    start();
  });

  // A token in the fragment is taken once and removed from the address bar and history.
  var fromFragment = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (fromFragment && fromFragment[1]) { sessionStorage.setItem(STORE, decodeURIComponent(fromFragment[1])); history.replaceState(null, '', location.pathname + location.search); }
  token = sessionStorage.getItem(STORE);
  if (token) start(); else signIn('');
})();
