// The S3 Control client for Batch Operations jobs, with the same bounded time and adaptive retry as
// every other client. S3 Control's endpoint rules put the account id in the host name
// (<account>.s3-control.<region>.amazonaws.com); a custom endpoint (the emulator, a gateway) is
// used as given: AWS_ENDPOINT_URL_S3_CONTROL, else the S3 endpoint, else AWS_ENDPOINT_URL.
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { commonSettings } from '../aws/clients.ts';
import type { Config } from '../config.ts';

export function createS3ControlClient(config: Config, env: NodeJS.ProcessEnv = process.env): S3ControlClient {
  const endpoint = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true' ? undefined : env.AWS_ENDPOINT_URL_S3_CONTROL || config.endpoints.s3 || config.endpoint;
  return new S3ControlClient({
    ...commonSettings({ timeouts: config.timeouts }),
    region: config.region,
    ...(endpoint ? { endpointProvider: () => ({ url: new URL(endpoint) }) } : {}),
  });
}
