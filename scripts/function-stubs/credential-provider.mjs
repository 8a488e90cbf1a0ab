// Stands in for the SDK's file- and token-based credential providers (shared config and
// credentials files, SSO, credential_process, web identity token files) in the function bundles
// (scripts/function-plugins.mjs). Lambda gives a function its role's credentials in the
// environment, which the chain's first link (fromEnv) reads, and the container endpoint, which
// its remote link reads; these links are skipped, as the chain skips any link that does not apply.
import { CredentialsProviderError } from '@smithy/core/config';

const skipped = (name) => () => async () => {
  throw new CredentialsProviderError(`${name} is not in this Lambda bundle: credentials come from the function's role (environment)`, { tryNextLink: true });
};

export const fromSSO = skipped('fromSSO');
export const fromIni = skipped('fromIni');
export const fromProcess = skipped('fromProcess');
export const fromTokenFile = skipped('fromTokenFile');
export const fromWebToken = skipped('fromWebToken');
