#!/usr/bin/env node
// npm run bundle: builds each Lambda function as it ships (one minified, tree-shaken ESM file per
// function, for node22), prints its size and how long a fresh `node` takes to import it, and
// checks both against the targets (≤ 1 MiB, import ≤ 150 ms). Exit code 1 when a target is missed.
//
// The AWS SDK v3 is bundled, not left to the Lambda runtime's copy: the versions the tests ran
// against are the versions that run, and esbuild keeps only the clients and commands the code
// uses, so a cold start loads one file instead of resolving hundreds of modules in /var/runtime.
// The plugins (scripts/function-plugins.mjs) leave out what no function calls (zod's locales and
// compiler, the YAML parser, SDK event streams, idempotency's JMESPath, among others).
//
//   node scripts/bundle.mjs [--json] [--outdir DIR]
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { FUNCTION_PLUGINS } from './function-plugins.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FUNCTIONS = ['audit-worker', 'sweep', 'key-events', 'report-api', 'evidence-pack', 'outbox-delivery'];
export const MAX_BYTES = 1024 * 1024;
export const MAX_IMPORT_MS = 150;

/** The esbuild options of a function bundle: the same for `npm run bundle` and the size test. */
export function bundleOptions(name, outdir) {
  return {
    entryPoints: [join(root, 'functions', `${name}.ts`)],
    outfile: join(outdir, name, 'index.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    // The SDK's ES modules (its `module` field), not the CommonJS `main`: esbuild can only drop the
    // commands and clients a function never calls from the ES build.
    mainFields: ['module', 'main'],
    minify: true,
    treeShaking: true,
    metafile: true,
    legalComments: 'none',
    logLevel: 'error',
    plugins: FUNCTION_PLUGINS,
    // ESM output calling require() (CommonJS dependencies of Powertools' tracer) needs one.
    banner: { js: "import { createRequire as __sseguardCreateRequire } from 'node:module'; const require = __sseguardCreateRequire(import.meta.url);" },
  };
}

export async function bundleFunction(name, outdir) {
  const options = bundleOptions(name, outdir);
  await build(options);
  return { name, file: options.outfile, bytes: statSync(options.outfile).size };
}

const RUNS = 5;

/**
 * How long a fresh node process takes to import the module: wall-clock milliseconds (the target)
 * and the CPU milliseconds (user + system) spent meanwhile, which a busy machine inflates less.
 * Best of five each, to damp noise.
 */
export function coldImport(file) {
  const script =
    `const cpu = process.cpuUsage(); const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); ` +
    'const wall = performance.now() - t; const used = process.cpuUsage(cpu); process.stdout.write(JSON.stringify([wall, (used.user + used.system) / 1000]));';
  const env = { ...process.env, AWS_REGION: process.env.AWS_REGION ?? 'us-east-1', POWERTOOLS_METRICS_DISABLED: 'true' };
  const runs = Array.from({ length: RUNS }, () => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' })));
  const round = (ms) => Math.round(ms * 10) / 10;
  return { wallMs: round(Math.min(...runs.map(([wall]) => wall))), cpuMs: round(Math.min(...runs.map(([, cpu]) => cpu))) };
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
    const { wallMs, cpuMs } = coldImport(file);
    results.push({ name, file, bytes, importMs: wallMs, importCpuMs: cpuMs, ok: bytes <= MAX_BYTES && wallMs <= MAX_IMPORT_MS });
  }
  const load = loadavg()[0].toFixed(1);
  if (json) {
    console.log(JSON.stringify({ node: process.version, loadAverage: Number(load), maxBytes: MAX_BYTES, maxImportMs: MAX_IMPORT_MS, functions: results }));
  } else {
    console.log(`function        size (≤ ${MAX_BYTES / 1024} KiB)   cold import (≤ ${MAX_IMPORT_MS} ms)   its CPU   node ${process.version}, best of ${RUNS}`);
    for (const r of results) {
      console.log(`${r.name.padEnd(15)} ${`${(r.bytes / 1024).toFixed(1)} KiB`.padStart(11)}         ${`${r.importMs} ms`.padStart(9)}          ${`${r.importCpuMs} ms`.padStart(8)}   ${r.ok ? 'PASS' : 'FAIL'}`);
    }
    console.log(`bundles in ${outdir}; load average ${load} on ${cpus().length} CPUs while measuring (a busy machine inflates the wall clock)`);
  }
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
