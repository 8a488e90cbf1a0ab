// Every integration file starts from an empty emulator and talks to it through the SDK's own
// environment conventions (AWS_ENDPOINT_URL and, where the emulator is split, the service-specific
// AWS_ENDPOINT_URL_<SERVICE>), as the product does in production.
import { beforeAll, inject } from 'vitest';
import { resetAll } from '../../cli/emulator-process.ts';
import { emptyLocalstack } from './engines.ts';

Object.assign(process.env, inject('emulatorEnvironment'));
delete process.env.AWS_PROFILE;
delete process.env.AWS_SESSION_TOKEN;

beforeAll(async () => {
  await resetAll(inject('emulatorResetUrls'));
  if (inject('emulatorEngine') === 'localstack') await emptyLocalstack();
});
