// The few facts sseguard needs from an SDK error, without depending on each service's classes.

export interface ServiceErrorFacts {
  name: string;
  status?: number;
  message: string;
}

export function errorFacts(error: unknown): ServiceErrorFacts {
  if (error && typeof error === 'object') {
    const e = error as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    return {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: typeof e.message === 'string' && e.message ? e.message : String(e.name ?? 'unknown error'),
      ...(status === undefined ? {} : { status }),
    };
  }
  return { name: 'Error', message: String(error) };
}
