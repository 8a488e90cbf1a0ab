#!/usr/bin/env node
// Entry point of the `sseguard` CLI: runs the TypeScript sources through tsx (Node 20 and 22).
import { register } from 'tsx/esm/api';

// The SDK warns on every run that its releases from 2027 need Node 22; this install pins its versions.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
