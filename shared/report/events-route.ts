// GET /events?since=CURSOR&limit=N: the change feed (shared/findings/change-feed.ts), each change as
// the EventBridge event sseguard puts for it (shared/delivery/events.ts): the same detail type and the
// same detail, so a consumer can poll the API or subscribe to the bus and read one schema
// (schemas/events/*.v1.json). Oldest first; `nextCursor` always continues after the last change
// listed (or stays where it was when nothing new has settled), so a poller keeps passing it back.
import { z } from 'zod';
import type { DeliveryContext } from '../delivery/outbox-delivery.ts';
import { DETAIL_TYPES, EVENT_SOURCE, eventOf } from '../delivery/events.ts';
import type { FeedPage } from '../findings/change-feed.ts';
import type { Position } from '../findings/findings-query.ts';
import { json, type Route } from './router.ts';
import { cursor, limit } from './schemas.ts';

export interface ChangeFeed extends DeliveryContext {
  /** The changes after a position ('' from the start), oldest first, at most `limit`. */
  page(after: string, limit: number): Promise<FeedPage>;
}

export const eventsParameters = z.strictObject({
  since: cursor.optional().describe('nextCursor of the previous call: the changes after it (default: from the first change recorded)'),
  limit,
});
type EventsParameters = z.infer<typeof eventsParameters>;

const detailTypes = Object.values(DETAIL_TYPES) as [string, ...string[]];
export const eventsPageSchema = z.object({
  events: z.array(
    z.object({
      id: z.string().describe("the change's stable id (= detail.eventId, the dedup key)"),
      recordedAt: z.string().describe('when the change was recorded: the feed is ordered by it, then by id'),
      source: z.literal(EVENT_SOURCE),
      detailType: z.enum(detailTypes),
      resources: z.array(z.string()),
      detail: z.record(z.string(), z.unknown()).describe('as the EventBridge event detail: schemas/events/<detail type>.v1.json'),
    }),
  ),
  nextCursor: z.string(),
});

/** The cursor's scope: the route only (a poller may change `limit` from one call to the next). */
const SCOPE = { route: 'events' };
const FEED = 'FEED';

export function eventsRoute(feed: ChangeFeed, cursors: { decode(scope: Record<string, string>, cursor: string | undefined): Position | undefined; encode(scope: Record<string, string>, position: Position): string }): Route {
  return {
    path: '/events',
    authenticated: true,
    parameters: eventsParameters,
    summary:
      'The change feed: every change recorded while an integration (event bus or Security Hub) is on, oldest first, each as its EventBridge event (detailType, detail). ' +
      'Changes are listed once they are two minutes old, so a cursor never skips a change still being written. Pass nextCursor back as `since`.',
    response: eventsPageSchema,
    handle: async ({ query }) => {
      const params = query as EventsParameters;
      const after = cursors.decode(SCOPE, params.since)?.key ?? '';
      const page = await feed.page(after, params.limit);
      const events = await Promise.all(
        page.items.map(async (item) => {
          const event = await eventOf(item, feed);
          return { id: item.id, recordedAt: item.recordedAt, source: EVENT_SOURCE, detailType: event.detailType, resources: event.resources, detail: event.detail };
        }),
      );
      return json(200, { events, nextCursor: cursors.encode(SCOPE, { bucket: FEED, key: page.position }) });
    },
  };
}
