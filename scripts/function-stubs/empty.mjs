// Stands in for zod's message locales in the function bundles (scripts/function-plugins.mjs).
export {};
