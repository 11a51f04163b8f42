import { Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import type { Logger } from '../../ports/logger.ts';
import type { Metrics } from '../../ports/telemetry.ts';

/**
 * CloudWatch metrics as Embedded Metric Format lines on stdout (Powertools): CloudWatch Logs turns them
 * into metrics, no API call on the request path. Dimensions: `service` (the function) and `stage`.
 */
export function createEmfMetrics(options: {
  namespace: string;
  serviceName: string;
  stage: string;
}): Metrics {
  const metrics = new PowertoolsMetrics({
    namespace: options.namespace,
    serviceName: options.serviceName,
    defaultDimensions: { stage: options.stage },
  });
  return {
    add(name, unit, value, dimensions) {
      if (!dimensions) {
        metrics.addMetric(name, unit, value);
        return;
      }
      // A metric with its own extra dimension is its own EMF document, so the others keep theirs.
      const single = metrics.singleMetric();
      single.addDimensions(dimensions);
      single.addMetric(name, unit, value);
    },
    publish() {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    },
  };
}

/** Locally the same figures go to the log at DEBUG, one line per metric. */
export function createLoggedMetrics(logger: Logger): Metrics {
  return {
    add(name, unit, value, dimensions) {
      logger.debug('metric', { metric: name, unit, value, ...(dimensions ? { dimensions } : {}) });
    },
    publish() {},
  };
}
