// The Athena client, with the same bounded time and retries as every other client.
import { AthenaClient } from '@aws-sdk/client-athena';
import { clientSettings, type ClientOptions } from '../aws/clients.ts';

export const createAthenaClient = (options: ClientOptions = {}) => new AthenaClient(clientSettings('athena', options));
