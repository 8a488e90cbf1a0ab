// The dashboard: one self-contained HTML page (inline CSS, JS and SVG charts; nothing from a CDN)
// served at GET /. It holds no data: it asks for the API token (or takes it from the URL fragment,
// `/#token=…`, which browsers never send to servers), keeps it in sessionStorage for the tab, and
// reads the same API routes any other client reads, with the same filters. This file is the
// markup; the styles and the script are files of their own in ./dashboard/, inlined here.
import { dashboardAssets } from './dashboard-assets.ts';

let page: string | undefined;

export function dashboardHtml(): string {
  if (page) return page;
  const { styles, script } = dashboardAssets();
  page = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sseguard — S3 encryption compliance</title>
<style>
${styles}</style>
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
<div id="error-banner" class="banner" role="alert" data-testid="error-banner" hidden>
  <b>The report API did not answer every request: what is shown below is incomplete.</b>
  <ul id="error-list"></ul>
</div>
<main id="app" hidden>
  <section class="span4" aria-labelledby="h-overall">
    <h2 id="h-overall">Overall compliance</h2>
    <div class="hero" id="overall-card"><div id="overall-donut"><div class="loading">Loading…</div></div>
      <div><div class="big" data-testid="overall-compliance"></div>
        <div class="muted">compliant or exempt</div>
        <div><b data-testid="overall-objects"></b> objects · <span data-testid="overall-bytes"></span></div></div></div>
  </section>
  <section class="span4" aria-labelledby="h-sweep">
    <h2 id="h-sweep">Last sweep and coverage</h2>
    <div id="last-sweep-card"><div data-testid="last-sweep">Loading…</div>
    <div data-testid="coverage" class="muted" style="margin-top:.5rem"></div></div>
  </section>
  <section class="span4" aria-labelledby="h-trend">
    <h2 id="h-trend">Compliance per run</h2>
    <label class="small muted trend-scope" id="trend-scope-label" hidden>Scope <select id="trend-scope" data-testid="trend-scope"></select></label>
    <div id="trend" data-testid="trend-chart"><div class="loading">Loading…</div></div>
  </section>
  <section class="span6" aria-labelledby="h-verdicts">
    <h2 id="h-verdicts">Objects by verdict</h2><div id="verdicts"><div class="loading">Loading…</div></div>
  </section>
  <section class="span6" aria-labelledby="h-modes">
    <h2 id="h-modes">Objects by encryption mode</h2><div id="modes"><div class="loading">Loading…</div></div>
  </section>
  <section class="span12" aria-labelledby="h-accounts">
    <h2 id="h-accounts">Accounts, the worst first</h2><div id="accounts" data-testid="accounts-card"><div class="loading">Loading…</div></div>
  </section>
  <section class="span7" aria-labelledby="h-buckets">
    <h2 id="h-buckets">Compliance per bucket</h2><div id="buckets"><div class="loading">Loading…</div></div>
  </section>
  <section class="span5" aria-labelledby="h-keys">
    <h2 id="h-keys">At-risk KMS keys (blast radius)</h2><div id="atrisk"><div class="loading">Loading…</div></div>
  </section>
  <section class="span12" aria-labelledby="h-deliveries">
    <h2 id="h-deliveries">Sent to Security Hub and EventBridge</h2><div id="deliveries" data-testid="deliveries"><div class="loading">Loading…</div></div>
  </section>
  <section class="span12" aria-labelledby="h-remediations">
    <h2 id="h-remediations">Recent remediations</h2><div id="remediations"><div class="loading">Loading…</div></div>
    <p><a href="#remediation-log" id="remediation-log-link" data-testid="remediation-log-link" hidden>Full change log →</a></p>
    <div id="remediation-log" hidden>
      <h2>Change log (every fix, newest first)</h2>
      <div id="remediation-log-rows"></div>
      <div class="pager"><button class="plain" id="log-newer" type="button" disabled>Newer</button><button class="plain" id="log-older" type="button" disabled data-testid="log-older">Older</button><span id="log-page-info" class="muted small"></span></div>
    </div>
  </section>
  <section class="span12" aria-labelledby="h-findings">
    <h2 id="h-findings">Findings</h2>
    <form class="filters" id="filters">
      <label>Bucket<select name="bucket" data-testid="filter-bucket"><option value="">all buckets</option></select></label>
      <label>Key prefix<input name="prefix" data-testid="filter-prefix" placeholder="e.g. finance/"></label>
      <label>Verdict<select name="verdict" data-testid="filter-verdict"><option value="">any verdict</option></select></label>
      <label>Mode<select name="mode" data-testid="filter-mode"><option value="">any mode</option></select></label>
      <label>KMS key<select name="kmsKey" data-testid="filter-kms-key"><option value="">any key</option></select></label>
      <label>Account<select name="account" data-testid="filter-account"><option value="">all accounts</option></select></label>
      <label>Per page<select name="limit"><option>25</option><option selected>50</option><option>100</option><option>500</option></select></label>
      <button class="primary" type="submit" data-testid="apply-filters">Apply</button>
      <button class="plain" type="button" id="export-csv">Export CSV</button>
      <button class="plain" type="button" id="export-json">Export JSON</button>
      <button class="plain" type="button" id="evidence-json" data-testid="evidence-link" title="the evidence pack's document as of now (unsigned; sseguard evidence writes the signed pack)">Evidence pack (JSON)</button>
    </form>
    <table><thead><tr><th>verdict</th><th>bucket</th><th>key</th><th>mode</th><th>KMS key</th><th>reasons</th><th class="num">size</th><th>audited</th></tr></thead>
      <tbody id="findings" data-testid="findings-body"></tbody></table>
    <div class="pager"><button class="plain" id="prev" type="button" disabled>Previous</button><button class="plain" id="next" type="button" disabled data-testid="next-page">Next</button><span id="page-info" class="muted small"></span></div>
    <div id="object" hidden style="margin-top:1rem"></div>
  </section>
</main>
<script>
${script}</script>
</body>
</html>
`;
  return page;
}
