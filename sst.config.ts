/// <reference path="./.sst/platform/config.d.ts" />
// sseguard on AWS: `npx sst deploy --stage production`. One file per concern under stacks/; the
// settings that matter are plain values in stacks/settings.ts.
export default $config({
  app: (input) => ({
    name: 'sseguard',
    removal: input.stage === 'production' ? 'retain' : 'remove',
    home: 'aws',
    providers: { aws: { version: '7.20.0' } },
  }),
  async run() {
    const { findings } = await import('./stacks/storage.ts');
    const { auditQueue, deadLetterQueue } = await import('./stacks/queue.ts');
    const { buckets, organization, centralRoleArns } = await import('./stacks/functions.ts');
    const { api } = await import('./stacks/api.ts');
    return { api: api.url, table: findings.name, queue: auditQueue.url, deadLetterQueue: deadLetterQueue.url, buckets: buckets.names, ...(organization ? { eventBus: organization.bus.arn, centralRoleArns } : {}) };
  },
});
