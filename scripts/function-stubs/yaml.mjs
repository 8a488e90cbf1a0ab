// Stands in for the `yaml` package in the function bundles (scripts/function-plugins.mjs): a
// deployed function reads its policy as JSON, which shared/domain/policy.ts parses without yaml.
export function parse() {
  throw new Error('a deployed function reads its policy as JSON (YAML policies are converted to JSON when the stack is deployed)');
}
