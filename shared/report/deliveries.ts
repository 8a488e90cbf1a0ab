// GET /deliveries: what was sent where (issue 19) — each destination's last push, last run and its
// failures, what waits in the outbox, and who is draining it now. A route of its own, beside the
// others in api.ts; the reading is shared/findings/outbox-status-reader.ts.
import { z } from 'zod';
import type { DeliveriesView } from '../findings/outbox-status-reader.ts';
import { json, type Route } from './router.ts';
import { noParameters } from './schemas.ts';

export const deliveriesSchema = z.object({
  pending: z.number().int().nonnegative(),
  oldestPendingAt: z.string().optional(),
  destinations: z.array(
    z.object({
      name: z.string(),
      pending: z.number().int().nonnegative(),
      lastRunAt: z.string().optional(),
      lastRunBy: z.string().optional(),
      lastRunDelivered: z.number().int().optional(),
      lastRunFailed: z.number().int().optional(),
      lastPushAt: z.string().optional(),
      lastFailureAt: z.string().optional(),
      totalDelivered: z.number().int().optional(),
      totalFailed: z.number().int().optional(),
    }),
  ),
  deliverer: z.object({ holder: z.string(), since: z.string(), expiresAt: z.string() }).optional(),
});

export function deliveriesRoute(read: () => Promise<DeliveriesView>): Route {
  return {
    path: '/deliveries',
    authenticated: true,
    parameters: noParameters,
    summary:
      'What was sent where: per destination (eventbridge, securityhub) the last run, the last push, items delivered and left failing, and items still waiting in the outbox; the deliverer holding the outbox lease now.',
    response: deliveriesSchema,
    handle: async () => json(200, await read()),
  };
}
