// Which buckets a sweep covers: globs from the configuration, "!glob" excluding. Pure.
import picomatch from 'picomatch';

export interface BucketSelection {
  include: string[];
  exclude: string[];
}

export function parseBucketSelection(globs: string[]): BucketSelection {
  return {
    include: globs.filter((g) => !g.startsWith('!')),
    exclude: globs.filter((g) => g.startsWith('!')).map((g) => g.slice(1)),
  };
}

/** True when the selection names buckets only by exact name, so no ListBuckets is needed. */
export const isExplicit = (selection: BucketSelection): boolean =>
  selection.include.length > 0 && selection.include.every((g) => !picomatch.scan(g).isGlob);

export function selectBuckets(selection: BucketSelection, available: string[]): string[] {
  const included = picomatch(selection.include.length > 0 ? selection.include : ['*']);
  const excluded = selection.exclude.length > 0 ? picomatch(selection.exclude) : () => false;
  return available.filter((bucket) => included(bucket) && !excluded(bucket)).sort();
}
