import { DomainError } from '../domain/errors.ts';
import type { Metrics } from '../ports/telemetry.ts';
import type { AnswerEvent } from '../usecases/answering/answer-question.ts';

/** The error kinds AnswerErrors is dimensioned by: the problem types, a bounded vocabulary. */
const errorKind = (error: unknown) => (error instanceof DomainError ? error.type : 'internal-error');

/**
 * The chat metrics of one answer, from the request's arrival: first-token and total latency, tokens in
 * and out, retrieval candidates, and errors by kind (before the first byte or mid-stream). Published when
 * the answer ends, one EMF document per answer.
 */
export function measureAnswer(metrics: Metrics, receivedAt = performance.now()) {
  const fail = (error: unknown) => {
    metrics.add('AnswerErrors', 'Count', 1, { kind: errorKind(error) });
    metrics.publish();
  };
  return {
    /** The answer could not start (quota, bad bot, provider refusal): counted by kind. */
    failed: fail,
    async *events(source: AsyncIterable<AnswerEvent>, retrieved: number): AsyncGenerator<AnswerEvent> {
      let first = true;
      try {
        for await (const event of source) {
          if (event.type === 'delta' && first) {
            first = false;
            metrics.add('AnswerFirstTokenLatency', 'Milliseconds', performance.now() - receivedAt);
          } else if (event.type === 'usage') {
            metrics.add('AnswerInputTokens', 'Count', event.inputTokens);
            metrics.add('AnswerOutputTokens', 'Count', event.outputTokens);
          }
          yield event;
        }
      } catch (error) {
        metrics.add('RetrievalCandidates', 'Count', retrieved);
        fail(error);
        throw error;
      }
      metrics.add('RetrievalCandidates', 'Count', retrieved);
      metrics.add('AnswerLatency', 'Milliseconds', performance.now() - receivedAt);
      metrics.publish();
    },
  };
}
