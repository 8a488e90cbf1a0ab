#!/usr/bin/env node
// Builds the `sseguard` CLI as it ships: cli/main.ts and everything it imports compiled by esbuild
// into dist/cli/ (ESM for Node 20+, one entry file plus the chunks that `invoke` loads on demand),
// so that a start parses JavaScript instead of compiling TypeScript through tsx.
//
// bin/sseguard.js loads dist/cli/main.mjs when it is there and still matches the sources it was
// built from (dist/cli/inputs.json: path, size and mtime of every project file in the bundle, and
// package-lock.json); otherwise — a fresh clone before the install step, or a source edited since —
// it falls back to tsx, so a developer never runs stale code. The install step (ensure-deps.mjs)
// rebuilds it when it is not current.
//
// Built in full (not --if-stale), it prints how long `sseguard --help` takes through the build.
//
//   node scripts/build-cli.mjs [--if-stale] [--quiet]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { compiledCliInputs, compiledCliIsCurrent } from './compiled-cli.mjs';
import { DASHBOARD_ASSET_FILES, inlineDashboardAssets } from './function-plugins.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_OUTDIR = join(root, 'dist', 'cli');

/**
 * The sources locate files next to themselves (`new URL('../../examples/…', import.meta.url)`).
 * In the bundle every module shares the entry's URL, so each project file's `import.meta.url` is
 * rewritten to the URL its source file has, computed from the bundle's own location: the built CLI
 * stays relocatable with the checkout and finds the same examples/ and emulator/ files.
 */
const sourceUrls = {
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const fromBundle = relative(CLI_OUTDIR, args.path).split(sep).join('/');
      return { contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

export async function buildCli({ quiet = false } = {}) {
  const started = performance.now();
  rmSync(CLI_OUTDIR, { recursive: true, force: true });
  mkdirSync(CLI_OUTDIR, { recursive: true });
  const result = await build({
    entryPoints: { main: join(root, 'cli', 'main.ts') },
    outdir: CLI_OUTDIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The SDK's ES modules, from which esbuild keeps only the commands the CLI calls.
    mainFields: ['module', 'main'],
    minifySyntax: true,
    minifyWhitespace: true,
    treeShaking: true,
    metafile: true,
    legalComments: 'none',
    logLevel: 'error',
    sourcemap: 'linked',
    plugins: [inlineDashboardAssets, sourceUrls],
    // CommonJS dependencies bundled into ESM (Powertools' tracer) call require().
    banner: { js: "import { createRequire as __sseguardCreateRequire } from 'node:module'; const require = __sseguardCreateRequire(import.meta.url);" },
  });
  const sources = Object.keys(result.metafile.inputs)
    // Project files only: packages change with package-lock.json, listed below (node_modules may be a link elsewhere).
    .filter((input) => !input.split('/').includes('node_modules') && !input.includes(':'))
    .concat('package-lock.json', DASHBOARD_ASSET_FILES)
    .sort();
  const inputs = sources.map((path) => {
    const stat = statSync(join(root, path));
    return [path, stat.size, Math.trunc(stat.mtimeMs)];
  });
  writeFileSync(compiledCliInputs, JSON.stringify(inputs));
  const bytes = Object.entries(result.metafile.outputs)
    .filter(([file]) => file.endsWith('.mjs'))
    .reduce((sum, [, output]) => sum + output.bytes, 0);
  if (!quiet) {
    console.error(`sseguard: CLI built into ${relative(root, CLI_OUTDIR)}/ (${(bytes / 1024).toFixed(0)} KiB from ${sources.length} project files, ${Math.round(performance.now() - started)} ms)`);
  }
  return { outdir: CLI_OUTDIR, bytes, inputs: sources.length };
}

/** Wall-clock milliseconds of `sseguard --help` through the compiled CLI, best of five. */
export function helpMs() {
  const bin = join(root, 'bin', 'sseguard.js');
  const runs = Array.from({ length: 5 }, () => {
    const started = performance.now();
    execFileSync(process.execPath, [bin, '--help'], { env: { ...process.env, SSEGUARD_CLI: 'compiled' }, stdio: 'ignore' });
    return performance.now() - started;
  });
  return Math.round(Math.min(...runs));
}

/** Builds the CLI unless the build there is current; true when it built. */
export async function buildCliIfStale(options = {}) {
  if (compiledCliIsCurrent()) return false;
  await buildCli(options);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const options = { quiet: process.argv.includes('--quiet') };
  if (process.argv.includes('--if-stale')) await buildCliIfStale(options);
  else {
    await buildCli(options);
    // The target of the compiled CLI (issue 13): a start as quick as a command line's, ≤ 300 ms.
    if (!options.quiet) console.error(`sseguard: \`sseguard --help\` takes ${helpMs()} ms (best of 5; target ≤ 300 ms, load average ${loadavg()[0].toFixed(1)})`);
  }
}
