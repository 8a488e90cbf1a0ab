#!/usr/bin/env node
// Installs what the project needs on a fresh machine with only Node and Python 3: npm packages
// from the lockfile, the compiled CLI (scripts/build-cli.mjs), and moto server (pinned) in a
// project-local virtual environment;
// with --for-tests also Debian's chromium (dashboard tests) and SST's platform types (type-check of
// sst.config.ts and stacks/). Each step is skipped when its inputs have not changed since it last ran.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
const digest = (...files) => {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(join(root, file)));
  return hash.digest('hex');
};

function ensure(stampPath, inputs, install) {
  const want = digest(...inputs);
  const stamp = join(root, stampPath);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  install();
  writeFileSync(stamp, want);
}

ensure('node_modules/.sseguard-installed', ['package-lock.json'], () => {
  console.error('sseguard: installing npm packages (npm ci)…');
  run('npm', ['ci', '--no-audit', '--no-fund']);
});

// The compiled CLI (dist/cli/, what bin/sseguard.js runs): rebuilt when a source it came from changed.
const { buildCliIfStale } = await import('./build-cli.mjs');
await buildCliIfStale();

const python = process.env.PYTHON ?? 'python3';
const venvPython = join(root, '.venv', 'bin', 'python');
ensure('.venv/.sseguard-installed', ['emulator/requirements.txt', 'emulator/constraints.txt'], () => {
  console.error('sseguard: installing moto server into .venv (pip)…');
  if (!existsSync(venvPython)) run(python, ['-m', 'venv', join(root, '.venv')]);
  run(venvPython, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check',
    '-r', 'emulator/requirements.txt', '-c', 'emulator/constraints.txt']);
});

// The test suite needs more than the demo: a browser and SST's platform types.
const forTests = process.argv.includes('--for-tests');

// The dashboard's browser tests drive Debian's chromium through playwright-core (no browser
// download). Installed from the distribution when missing and we may; otherwise say how.
const chromium = '/usr/bin/chromium';
if (forTests && !existsSync(chromium)) {
  const aptGet = ['/usr/bin/apt-get', '/bin/apt-get'].find((path) => existsSync(path));
  if (process.getuid?.() === 0 && aptGet) {
    console.error('sseguard: installing chromium for the dashboard tests (apt-get)…');
    execFileSync(aptGet, ['update'], { stdio: 'inherit' });
    execFileSync(aptGet, ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } else {
    console.error(`sseguard: ${chromium} is missing: install it first (sudo apt-get install -y chromium), then run this again.`);
    process.exit(1);
  }
}

// SST's platform (.sst/platform: the component types sst.config.ts and stacks/ are type-checked
// against). `sst install` would also download Pulumi and Bun; SST_SKIP_DEPENDENCY_CHECK and NO_BUN
// stop that, and it fetches the pinned providers through npm. Redone when SST or the config change.
if (forTests) ensure('.sst/.sseguard-installed', ['package-lock.json', 'sst.config.ts'], () => {
  console.error('sseguard: installing the SST platform types (sst install, offline mode)…');
  execFileSync(join(root, 'node_modules', '.bin', 'sst'), ['install', '--stage', 'typecheck'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, SST_SKIP_DEPENDENCY_CHECK: '1', NO_BUN: '1', SST_TELEMETRY_DISABLED: '1' },
  });
});
