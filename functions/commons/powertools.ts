// One Logger, Metrics and Tracer per Lambda process, imported by every handler as `#powertools`.
// Settings come from Powertools' own environment variables (POWERTOOLS_SERVICE_NAME,
// POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE), set per stage by the stacks.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'sseguard';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ serviceName, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'sseguard' });
export const tracer = new Tracer({ serviceName });
