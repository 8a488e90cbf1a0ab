// sseguard does not use SST workflows (sst/aws/workflow), the one importer of this package.
throw new Error(
  '@aws/durable-execution-sdk-js is replaced by a stub in sseguard (package.json overrides): SST workflows are not used. ' +
    'To use them, remove the override and run on Node 22.',
);
