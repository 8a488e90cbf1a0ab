// Stands in for @aws-lambda-powertools/jmespath (≈ 23 KiB minified) inside Powertools'
// idempotency utility, in the function bundles (scripts/function-plugins.mjs). Idempotency
// evaluates JMESPath only for the options eventKeyJmesPath and payloadValidationJmesPath, which
// sseguard never sets: a fix is keyed by its whole identity argument (shared/audit/idempotent-fix.ts,
// `dataIndexArgument: 0`). The configuration still builds its default function table; a search,
// which would mean one of those options was set, refuses and says why.
export function search(expression) {
  throw new Error(`JMESPath (${JSON.stringify(expression)}) is left out of the function bundles: sseguard's idempotency keys the whole identity (scripts/function-plugins.mjs)`);
}

/** The default custom-function table IdempotencyConfig builds; empty, since nothing is searched. */
export class PowertoolsFunctions {}
