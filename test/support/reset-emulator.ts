// Every integration file starts from an empty emulator and talks to it through the SDK's own
// environment conventions, as the product does in production.
import { beforeAll, inject } from 'vitest';
import { resetEmulator } from '../../cli/emulator-process.ts';

const endpoint = inject('emulatorEndpoint');
process.env.AWS_ENDPOINT_URL = endpoint;
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';

beforeAll(async () => {
  await resetEmulator(endpoint);
});
