// esbuild plugins for the Lambda function bundles: used by scripts/bundle.mjs (`npm run bundle`,
// the size test) and meant for SST's `nodejs.plugins` (the default export), so that what ships is
// what was measured. Plain onResolve/onLoad with paths only (no namespaces, no build.esbuild), the
// subset SST's plugin host offers.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const stub = (name) => fileURLToPath(new URL(`./function-stubs/${name}`, import.meta.url));

/**
 * zod's `z` namespace carries every message locale (≈ 260 KiB minified) and esbuild cannot drop
 * the unused ones through it. sseguard never calls `z.locales`; zod's default English messages
 * come from its own `locales/en.js`, which stays. The namespace's `locales` is then empty.
 */
export const withoutZodLocales = {
  name: 'without-zod-locales',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => (/[\\/]zod[\\/]/.test(args.importer) ? { path: stub('empty.mjs') } : undefined));
  },
};

/**
 * zod's `z` namespace also carries `z.fromJSONSchema` (≈ 12 KiB minified), which no function calls
 * (sseguard only goes the other way, z.toJSONSchema, for the OpenAPI description): stubbed with a
 * function that says so.
 */
export const withoutZodFromJsonSchema = {
  name: 'without-zod-from-json-schema',
  setup(b) {
    b.onResolve({ filter: /\/from-json-schema\.js$/ }, (args) => (/[\\/]zod[\\/]/.test(args.importer) ? { path: stub('zod-from-json-schema.mjs') } : undefined));
  },
};

/**
 * zod's `z` namespace also carries its ahead-of-time compiler, `z.compile` (zod/v4/core/compile.js,
 * ≈ 29 KiB minified), which no function calls (nor imports `zod/compile`, which would turn it on
 * for every schema): zod's parser never imports it. Stubbed (scripts/function-stubs/zod-compile.mjs)
 * with zod's own answer for a schema it cannot compile: the schema, on the runtime parser.
 */
export const withoutZodCompiler = {
  name: 'without-zod-compiler',
  setup(b) {
    b.onResolve({ filter: /\/compile\.js$/ }, (args) => (/[\\/]zod[\\/]v4[\\/]core[\\/]/.test(args.importer) ? { path: stub('zod-compile.mjs') } : undefined));
  },
};

/**
 * A policy file is YAML or JSON on the deploying machine and JSON in the function package (the
 * stack converts it), so the functions carry no YAML parser (yaml is ≈ 100 KiB, CommonJS, kept
 * whole). shared/domain/policy.ts parses text starting with `{` as JSON and hands anything else to
 * yaml's `parse`, which here says why it will not.
 */
export const policyAsJsonOnly = {
  name: 'policy-as-json-only',
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, () => ({ path: stub('yaml.mjs') }));
  },
};

/**
 * The default credential chain's links for developer machines and other hosts (shared config
 * files, SSO, credential_process, web identity token files) bring the STS/SSO clients along
 * (≈ 80 KiB). A Lambda function's credentials are its role's, in the environment: those links are
 * left out (scripts/function-stubs/credential-provider.mjs skips them, as the chain skips any link
 * that does not apply); fromEnv and the container/instance endpoints stay.
 */
export const lambdaCredentialsOnly = {
  name: 'lambda-credentials-only',
  setup(b) {
    b.onResolve({ filter: /^@aws-sdk\/credential-provider-(sso|ini|process|web-identity)$/ }, () => ({ path: stub('credential-provider.mjs') }));
  },
};

/**
 * aws-xray-sdk-core (Powertools' tracer) requires `semver` for one check in its AWS SDK v2 patcher,
 * which sseguard never calls (v3 clients are traced by captureAWSv3Client): a one-function stand-in
 * (scripts/function-stubs/semver.mjs) saves ≈ 29 KiB in every traced function.
 */
export const semverForXrayOnly = {
  name: 'semver-for-xray-only',
  setup(b) {
    b.onResolve({ filter: /^semver$/ }, (args) => (/[\\/]aws-xray-sdk-core[\\/]/.test(args.importer) ? { path: stub('semver.mjs') } : undefined));
  },
};

/**
 * The S3 client wires an event-stream marshaller into every client for SelectObjectContent, the
 * one S3 operation that streams events, which no function sends (nor any event-stream operation of
 * the other clients the functions build): @smithy/core/event-streams (≈ 15 KiB) is left out, and
 * a marshaller that refuses, saying why, takes its place (scripts/function-stubs/smithy-event-streams.mjs).
 */
export const withoutSdkEventStreams = {
  name: 'without-sdk-event-streams',
  setup(b) {
    b.onResolve({ filter: /^@smithy\/core\/event-streams$/ }, () => ({ path: stub('smithy-event-streams.mjs') }));
  },
};

/**
 * Powertools' idempotency evaluates JMESPath (@aws-lambda-powertools/jmespath, ≈ 23 KiB) only
 * for eventKeyJmesPath and payloadValidationJmesPath, which sseguard never sets: a fix is keyed by
 * its whole identity argument (shared/audit/idempotent-fix.ts). A stand-in that refuses to search
 * takes its place (scripts/function-stubs/powertools-jmespath.mjs); the bundle test holds the
 * sources to setting neither option.
 */
export const idempotencyWithoutJmesPath = {
  name: 'idempotency-without-jmespath',
  setup(b) {
    b.onResolve({ filter: /^@aws-lambda-powertools\/jmespath(\/functions)?$/ }, (args) =>
      /[\\/]@aws-lambda-powertools[\\/]idempotency[\\/]/.test(args.importer) ? { path: stub('powertools-jmespath.mjs') } : undefined,
    );
  },
};

/** The files inlineDashboardAssets reads, from the project root: a build that inlines them depends on them. */
export const DASHBOARD_ASSET_FILES = ['shared/report/dashboard/dashboard.css', 'shared/report/dashboard/dashboard.js'];

/**
 * The dashboard's styles and script are files of their own (shared/report/dashboard/); a bundle
 * carries them inline, minified, in place of shared/report/dashboard-assets.ts (which reads them
 * from disk when run from source).
 */
export const inlineDashboardAssets = {
  name: 'inline-dashboard-assets',
  setup(b) {
    b.onLoad({ filter: /[\\/]shared[\\/]report[\\/]dashboard-assets\.ts$/ }, async (args) => {
      const dir = join(dirname(args.path), 'dashboard');
      const read = (name) => readFileSync(join(dir, name), 'utf8');
      const [styles, script] = await Promise.all([
        transform(read('dashboard.css'), { loader: 'css', minify: true }),
        transform(read('dashboard.js'), { loader: 'js', minify: true, target: 'es2020', legalComments: 'none' }),
      ]);
      if (/<\/style/i.test(styles.code) || /<\/script/i.test(script.code)) throw new Error('dashboard assets must not close their own <style>/<script> element');
      return {
        contents: `export function dashboardAssets() { return { styles: ${JSON.stringify(styles.code)}, script: ${JSON.stringify(script.code)} }; }`,
        loader: 'js',
      };
    });
  },
};

export const FUNCTION_PLUGINS = [withoutZodLocales, withoutZodFromJsonSchema, withoutZodCompiler, policyAsJsonOnly, lambdaCredentialsOnly, semverForXrayOnly, withoutSdkEventStreams, idempotencyWithoutJmesPath, inlineDashboardAssets];
export default FUNCTION_PLUGINS;
