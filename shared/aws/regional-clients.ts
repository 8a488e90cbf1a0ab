// Clients per Region. A KMS key lives in the Region its ARN names and a bucket in the Region it was
// created in; asked from another Region, KMS answers "not found" and S3 a redirect. So calls about a
// key or a bucket go through the client of *its* Region, made on first use and kept (connections
// stay alive), with the same settings (endpoints, timeouts, retry) as every other client.
//
// The factory is keyed by Region alone today. Credentials per account (assumed roles) plug in as
// another factory of the same shape built with other base options; nothing that asks `kmsFor` or
// `s3For` changes.
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { commonSettings, resolveEndpoints, type ClientOptions } from './clients.ts';

export type RegionalClient = KMSClient | S3Client;

export interface RegionalClients {
  /** The process's Region (AWS_REGION): where a reference naming no Region is asked. */
  readonly home: string;
  kmsFor(region: string): KMSClient;
  s3For(region: string): S3Client;
  /** Runs `apply` on every client this factory makes, now and later (tracing, call counters); not on the home clients it was given. */
  onClient(apply: (client: RegionalClient) => void): void;
}

export interface RegionalClientsOptions extends ClientOptions {
  /** Clients already made for the home Region, reused rather than made twice. */
  home?: { kms?: KMSClient; s3?: S3Client };
}

export function createRegionalClients(homeRegion: string, options: RegionalClientsOptions = {}): RegionalClients {
  const endpoints = resolveEndpoints(options);
  const common = commonSettings(options);
  const kms = new Map<string, KMSClient>();
  const s3 = new Map<string, S3Client>();
  const hooks: ((client: RegionalClient) => void)[] = [];
  const own: RegionalClient[] = [];
  if (options.home?.kms) kms.set(homeRegion, options.home.kms);
  if (options.home?.s3) s3.set(homeRegion, options.home.s3);

  const made = <C extends RegionalClient>(cache: Map<string, C>, region: string, make: () => C): C => {
    let client = cache.get(region);
    if (!client) {
      client = make();
      cache.set(region, client);
      own.push(client);
      for (const hook of hooks) hook(client);
    }
    return client;
  };
  return {
    home: homeRegion,
    kmsFor: (region) => made(kms, region, () => new KMSClient({ ...common, region, ...(endpoints.kms ? { endpoint: endpoints.kms } : {}) })),
    // A custom S3 endpoint does not serve virtual-hosted bucket names: path-style whenever it is set.
    s3For: (region) =>
      made(s3, region, () => new S3Client({ ...common, region, ...(endpoints.s3 ? { endpoint: endpoints.s3, forcePathStyle: true } : {}) })),
    onClient(apply) {
      hooks.push(apply);
      for (const client of own) apply(client);
    },
  };
}
