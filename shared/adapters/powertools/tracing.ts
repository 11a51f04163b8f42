import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Tracing } from '../../ports/telemetry.ts';

/**
 * X-Ray subsegments (Powertools Tracer). Outside Lambda, or with tracing off, the tracer has no segment
 * and a span is just the call.
 */
export function createXRayTracing(serviceName: string): Tracing {
  const tracer = new Tracer({ serviceName, captureHTTPsRequests: false });
  return {
    async span(name, call) {
      const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
      if (!parent) return call();
      const sub = parent.addNewSubsegment(name);
      tracer.setSegment(sub);
      try {
        return await call();
      } catch (error) {
        sub.addError(error as Error);
        throw error;
      } finally {
        sub.close();
        tracer.setSegment(parent);
      }
    },
  };
}
