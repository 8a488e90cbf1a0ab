// EventBridge destination: one event per outbox item on the configured bus (name or ARN). PutEvents
// takes at most 10 entries and 256 KB per call; entries it refuses (FailedEntryCount, Entries[].ErrorCode,
// throttling among them) are sent again, alone, with the project's backoff, a bounded number of times.
// Each detail carries the outbox item's id as eventId: a consumer that sees it twice (a deliverer that
// crashed after PutEvents and before removing the item) can tell.
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { clientSettings, type ClientOptions } from '../aws/clients.ts';
import { isTransientServiceError } from '../aws/errors.ts';
import { backoffMs, retrying, type RetryPolicy } from '../aws/retry.ts';
import type { OutboxItem } from '../findings/outbox.ts';
import { EVENT_SOURCE, eventOf } from './events.ts';
import type { DeliveryContext, Destination } from './outbox-delivery.ts';

const MAX_ENTRIES = 10;
const MAX_CALL_BYTES = 256 * 1024;
export const EVENTS_RETRY: RetryPolicy = { attempts: 8, baseMs: 100, capMs: 5_000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createEventBridgeClient(options: ClientOptions = {}): EventBridgeClient {
  return new EventBridgeClient(clientSettings('eventbridge', options));
}

/** The size EventBridge counts for an entry (source, detail type, detail, resources, bus). */
const entrySize = (entry: PutEventsRequestEntry): number =>
  Buffer.byteLength(entry.Source ?? '') +
  Buffer.byteLength(entry.DetailType ?? '') +
  Buffer.byteLength(entry.Detail ?? '') +
  (entry.Resources ?? []).reduce((sum, r) => sum + Buffer.byteLength(r), 0) +
  Buffer.byteLength(entry.EventBusName ?? '');

/** Splits entries into calls of at most 10 entries and 256 KB. */
export function putEventsCalls<T extends { entry: PutEventsRequestEntry }>(entries: T[]): T[][] {
  const calls: T[][] = [];
  let call: T[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = entrySize(e.entry);
    if (call.length === MAX_ENTRIES || (call.length > 0 && bytes + size > MAX_CALL_BYTES)) {
      calls.push(call);
      call = [];
      bytes = 0;
    }
    call.push(e);
    bytes += size;
  }
  if (call.length > 0) calls.push(call);
  return calls;
}

export function eventBridgeDestination(client: EventBridgeClient, eventBus: string, policy: RetryPolicy = EVENTS_RETRY): Destination {
  return {
    name: 'eventbridge',
    async send(items: OutboxItem[], context: DeliveryContext): Promise<Set<string>> {
      const entries = await Promise.all(
        items.map(async (item) => {
          const event = await eventOf(item, context);
          const entry: PutEventsRequestEntry = {
            Source: EVENT_SOURCE,
            DetailType: event.detailType,
            Detail: JSON.stringify(event.detail),
            Resources: event.resources,
            EventBusName: eventBus,
            Time: new Date(item.at),
          };
          return { id: item.id, entry };
        }),
      );
      const delivered = new Set<string>();
      let pending = entries;
      for (let attempt = 1; pending.length > 0 && attempt <= policy.attempts; attempt++) {
        if (attempt > 1) await sleep(backoffMs(attempt, policy));
        const refused: typeof entries = [];
        for (const call of putEventsCalls(pending)) {
          let answer;
          try {
            answer = await retrying('EventBridge PutEvents', () => client.send(new PutEventsCommand({ Entries: call.map((c) => c.entry) })), policy);
          } catch (error) {
            // Still throttled after every retry: these stay in the outbox for the next run.
            if (isTransientServiceError((error as Error).cause)) {
              refused.push(...call);
              continue;
            }
            throw error;
          }
          // Entries[] answers the request's entries in order: an ErrorCode marks one that was not taken.
          call.forEach((c, index) => {
            const result = answer.Entries?.[index];
            if (result && !result.ErrorCode && result.EventId) delivered.add(c.id);
            else refused.push(c);
          });
        }
        pending = refused;
      }
      return delivered;
    },
  };
}
