// Stands in for zod's ahead-of-time compiler (zod/v4/core/compile.js, ≈ 29 KiB minified) in the
// function bundles (scripts/function-plugins.mjs). The `z` namespace re-exports it, so esbuild
// keeps it, but no function calls z.compile or z.withParser, nor imports `zod/compile`: every
// schema parses on zod's runtime parser, compiled or not. `compile` answers as zod's own does for
// a schema it cannot compile (the schema, unchanged, on the runtime parser); under `strict` it
// refuses, as zod's does.
export const INVALID = Symbol.for('zod.compile.invalid');

const LEFT_OUT = 'zod\'s compiler is left out of the function bundles (scripts/function-plugins.mjs)';

export class ZodCompileAsyncError extends Error {
  constructor(message = 'z.compile does not support async refinements, transforms, or checks') {
    super(message);
    this.name = 'ZodCompileAsyncError';
  }
}

export class ZodCompileUnsupportedError extends Error {
  constructor(feature, islandable = true) {
    super(`z.compile does not support ${feature}; this schema must use the runtime parser`);
    this.name = 'ZodCompileUnsupportedError';
    this.islandable = islandable;
  }
}

export function compile(schema, options) {
  if (options?.strict) throw new ZodCompileUnsupportedError(`anything here: ${LEFT_OUT}`);
  return schema;
}

export function withParser() {
  throw new Error(LEFT_OUT);
}

export function compileFn() {
  throw new Error(LEFT_OUT);
}
