// Clients that act in another account of the emulator: moto answers a request in the account its
// `x-moto-account-id` header names (moto/core/responses.py get_current_account), as AWS answers in
// the account of the caller's credentials. For tests of several accounts without STS set-up.
import type { BuildMiddleware, MiddlewareStack } from '@smithy/types';

interface WithStack<I extends object, O extends object> {
  middlewareStack: MiddlewareStack<I, O>;
}

/** The client, sending every request as account `accountId` (mutates and returns it). */
export function inAccount<I extends object, O extends object, C extends WithStack<I, O>>(client: C & WithStack<I, O>, accountId: string): C {
  const header: BuildMiddleware<I, O> = (next) => async (args) => {
    (args.request as { headers: Record<string, string> }).headers['x-moto-account-id'] = accountId;
    return next(args);
  };
  client.middlewareStack.add(header, { step: 'build', name: 'motoAccount' });
  return client;
}
