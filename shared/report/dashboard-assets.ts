// The dashboard's styles and script (./dashboard/dashboard.css, ./dashboard/dashboard.js), read
// from their files when run from source (tsx, vitest). Every bundle (functions, CLI) replaces this
// module with the two texts inlined at build time (scripts/function-plugins.mjs), so a function
// package needs no file beside its code. Read on first use: a bundle built without that plugin
// fails on GET / only, saying so, not at start.
import { readFileSync } from 'node:fs';

export interface DashboardAssets {
  styles: string;
  script: string;
}

const asset = (name: string): string => {
  try {
    return readFileSync(new URL(`./dashboard/${name}`, import.meta.url), 'utf8');
  } catch (error) {
    throw new Error(`dashboard ${name} not found: bundles inline it with scripts/function-plugins.mjs (${(error as Error).message})`);
  }
};

export function dashboardAssets(): DashboardAssets {
  return { styles: asset('dashboard.css'), script: asset('dashboard.js') };
}
