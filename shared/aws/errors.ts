// The few facts sseguard needs from an SDK error, without depending on each service's classes.
import { isServerError, isThrottlingError, isTransientError } from '@smithy/service-error-classification';
import type { SdkError } from '@smithy/types';

export interface ServiceErrorFacts {
  name: string;
  status?: number;
  message: string;
  /** Throttling, a 5xx, a timeout or a dropped connection: a later try may well succeed. */
  transient?: boolean;
}

/**
 * Whether a later try could give another answer: AWS's throttling codes (SlowDown,
 * ProvisionedThroughputExceededException, ThrottlingException…), 5xx, timeouts and dropped
 * connections, classified as the SDK's own retry strategy classifies them. Never a verdict.
 */
export function isTransientServiceError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const sdkError = error as SdkError;
  if (typeof sdkError.name !== 'string') return false;
  return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError) || sdkError.name === 'AbortError';
}

/**
 * Whether a write that failed this way may still have been carried out: no answer, a timeout or a
 * 5xx. A throttled request (503 SlowDown, ThrottlingException) was refused before it ran.
 */
export function mayHaveBeenApplied(error: unknown): boolean {
  return isTransientServiceError(error) && !isThrottlingError(error as SdkError);
}

export function errorFacts(error: unknown): ServiceErrorFacts {
  if (error && typeof error === 'object') {
    const e = error as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    return {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: typeof e.message === 'string' && e.message ? e.message : String(e.name ?? 'unknown error'),
      ...(status === undefined ? {} : { status }),
      ...(isTransientServiceError(error) ? { transient: true } : {}),
    };
  }
  return { name: 'Error', message: String(error) };
}

/** One line for an error that means the endpoint itself did not answer, or undefined when it did. */
export function unreachableEndpoint(error: unknown, endpoint: string | undefined): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const { name, code, message } = error as { name?: string; code?: string; message?: string };
  const where = endpoint ?? 'the AWS endpoint';
  if (name === 'TimeoutError' || code === 'ETIMEDOUT') return `no answer from ${where} (${(message ?? name ?? 'TimeoutError').replace(/^@smithy\/[a-z-]+ - /, '')}): is the endpoint up?`;
  if (code === 'ECONNREFUSED') return `cannot connect to ${where} (connection refused): is the endpoint up?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve ${where} (${code})`;
  if (code === 'ECONNRESET' || code === 'EPIPE') return `${where} dropped the connection (${code})`;
  return undefined;
}
