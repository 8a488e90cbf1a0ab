#!/usr/bin/env node
// Entry point of the `sseguard` CLI. Runs the compiled CLI (dist/cli/main.mjs, built by the install
// step `node scripts/ensure-deps.mjs` and by `npm run build`) when it is there and was built from
// the sources as they are now; otherwise — a fresh clone not yet installed, or a source edited
// since the build — compiles the TypeScript sources through tsx, so the CLI is never stale.
// SSEGUARD_CLI=source forces tsx; SSEGUARD_CLI=compiled skips the freshness check.
import { compiledCli, compiledCliIsCurrent } from '../scripts/compiled-cli.mjs';

// The SDK warns on every run that its releases from 2027 need Node 22; this install pins its versions.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const mode = process.env.SSEGUARD_CLI;
let main;
if (mode === 'compiled' || (mode !== 'source' && compiledCliIsCurrent())) {
  // SSEGUARD_DEBUG prints stacks: point them at the sources (dist/cli/*.map) rather than the build.
  if (process.env.SSEGUARD_DEBUG) process.setSourceMapsEnabled(true);
  ({ main } = await import(compiledCli.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv);
