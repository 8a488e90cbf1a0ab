// Where the compiled CLI lives and whether it is current: shared by bin/sseguard.js (which must
// start fast, so node built-ins only) and scripts/build-cli.mjs (which writes what this reads).
import { existsSync, readFileSync, statSync } from 'node:fs';

export const projectRoot = new URL('../', import.meta.url);
export const compiledCli = new URL('dist/cli/main.mjs', projectRoot);
/** [path from the project root, size, mtime in whole ms] of every project file the build read. */
export const compiledCliInputs = new URL('dist/cli/inputs.json', projectRoot);

/** The build is there and every project file it read still has the size and mtime it had then. */
export function compiledCliIsCurrent() {
  if (!existsSync(compiledCli)) return false;
  try {
    const inputs = JSON.parse(readFileSync(compiledCliInputs, 'utf8'));
    return inputs.every(([path, size, mtime]) => {
      const stat = statSync(new URL(path, projectRoot));
      return stat.size === size && Math.trunc(stat.mtimeMs) === mtime;
    });
  } catch {
    return false;
  }
}
