#!/usr/bin/env node
// npm run bundle: builds each Lambda function as it ships (one minified, tree-shaken ESM file per
// function, for node22), prints its size and how long a fresh `node` takes to import it, and
// checks both against the targets (≤ 1 MB, import ≤ 150 ms). Exit code 1 when a target is missed.
//
// The AWS SDK v3 is bundled, not left to the Lambda runtime's copy: the versions the tests ran
// against are the versions that run, and esbuild keeps only the clients and commands the code
// uses, so a cold start loads one file instead of resolving hundreds of modules in /var/runtime.
//
//   node scripts/bundle.mjs [--json] [--outdir DIR]
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FUNCTIONS = ['audit-worker', 'sweep', 'key-events', 'report-api'];
export const MAX_BYTES = 1024 * 1024;
export const MAX_IMPORT_MS = 150;

/**
 * zod's `z` namespace carries every message locale (≈ 260 KiB minified) and esbuild cannot drop
 * the unused ones through it. sseguard never calls `z.locales`; zod's default English messages
 * come from its own `locales/en.js`, which stays. The namespace's `locales` is then empty.
 */
const withoutZodLocales = {
  name: 'without-zod-locales',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => (/[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'sseguard-empty' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'sseguard-empty' }, () => ({ contents: 'export {}', loader: 'js' }));
  },
};

/** The esbuild options of a function bundle: the same for `npm run bundle` and the size test. */
export function bundleOptions(name, outdir) {
  return {
    entryPoints: [join(root, 'functions', `${name}.ts`)],
    outfile: join(outdir, name, 'index.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    minify: true,
    treeShaking: true,
    metafile: true,
    legalComments: 'none',
    logLevel: 'error',
    plugins: [withoutZodLocales],
    // ESM output calling require() (CommonJS dependencies of Powertools' tracer) needs one.
    banner: { js: "import { createRequire as __sseguardCreateRequire } from 'node:module'; const require = __sseguardCreateRequire(import.meta.url);" },
  };
}

export async function bundleFunction(name, outdir) {
  const options = bundleOptions(name, outdir);
  await build(options);
  return { name, file: options.outfile, bytes: statSync(options.outfile).size };
}

/** Milliseconds a fresh node process takes to import the module (best of three, to damp noise). */
export function coldImportMs(file) {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const env = { ...process.env, AWS_REGION: process.env.AWS_REGION ?? 'us-east-1', POWERTOOLS_METRICS_DISABLED: 'true' };
  const runs = [0, 1, 2].map(() => Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' })));
  return Math.min(...runs);
}

async function main() {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const outdirAt = args.indexOf('--outdir');
  const outdir = resolve(outdirAt >= 0 ? args[outdirAt + 1] : join(root, 'dist', 'functions'));
  mkdirSync(outdir, { recursive: true });
  const results = [];
  for (const name of FUNCTIONS) {
    const { file, bytes } = await bundleFunction(name, outdir);
    const importMs = coldImportMs(file);
    results.push({ name, file, bytes, importMs: Math.round(importMs * 10) / 10, ok: bytes <= MAX_BYTES && importMs <= MAX_IMPORT_MS });
  }
  if (json) {
    console.log(JSON.stringify({ node: process.version, maxBytes: MAX_BYTES, maxImportMs: MAX_IMPORT_MS, functions: results }));
  } else {
    console.log(`function        size (≤ ${MAX_BYTES / 1024} KiB)   cold import (≤ ${MAX_IMPORT_MS} ms, node ${process.version}, best of 3)`);
    for (const r of results) {
      console.log(`${r.name.padEnd(15)} ${`${(r.bytes / 1024).toFixed(1)} KiB`.padStart(11)}         ${`${r.importMs} ms`.padStart(9)}   ${r.ok ? 'PASS' : 'FAIL'}`);
    }
    console.log(`bundles in ${outdir}`);
  }
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
