// The one retry loop on top of the SDK's own attempts (whose client-wide retry quota runs dry under
// sustained throttling): weather — throttling, 5xx, timeouts, dropped connections — is tried again
// with exponential backoff and full jitter, a bounded number of times; anything else goes straight
// back to the caller. Used for DynamoDB writes (findings/dynamodb-writes.ts) and S3 listings.
import { isTransientServiceError } from './errors.ts';

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  capMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Exponential backoff with full jitter. */
export const backoffMs = (attempt: number, policy: RetryPolicy): number => Math.random() * Math.min(policy.capMs, policy.baseMs * 2 ** attempt);

export async function retrying<T>(
  what: string,
  request: () => Promise<T>,
  policy: RetryPolicy,
  isWeather: (error: unknown) => boolean = isTransientServiceError,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      const weather = isWeather(error);
      if (!weather || attempt >= policy.attempts) {
        if (weather) throw new Error(`${what}: still throttled or failing after ${attempt} attempts`, { cause: error });
        throw error;
      }
      await sleep(backoffMs(attempt, policy));
    }
  }
}
