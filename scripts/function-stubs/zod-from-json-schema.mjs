// Stands in for zod's JSON Schema importer in the function bundles (scripts/function-plugins.mjs):
// no function builds a schema from JSON Schema.
export function fromJSONSchema() {
  throw new Error('z.fromJSONSchema is left out of the function bundles (scripts/function-plugins.mjs)');
}
