/**
 * The telemetry ports: operational metrics (CloudWatch EMF in AWS, DEBUG log lines locally) and trace
 * spans (X-Ray subsegments in AWS). Never dimension a metric by tenant: per-tenant figures are usage
 * events, and a tenant dimension would multiply CloudWatch's metric count by the number of tenants.
 */

export type MetricUnit = 'Count' | 'Milliseconds';

/** What the functions measure (the dashboard reads these names). */
export const METRIC_NAMES = [
  // chat
  'AnswerFirstTokenLatency',
  'AnswerLatency',
  'AnswerInputTokens',
  'AnswerOutputTokens',
  'RetrievalCandidates',
  'AnswerErrors',
  // ingest
  'SourcesCompleted',
  'SourcesFailed',
  'ChunksStored',
  'EmbeddingCalls',
  'EmbeddingTokens',
  'IngestDuration',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export interface Metrics {
  /** `dimensions` beyond the function and stage (e.g. an error's kind): a bounded vocabulary only. */
  add(name: MetricName, unit: MetricUnit, value: number, dimensions?: Record<string, string>): void;
  /** Writes what was added (one EMF document per invocation in AWS). */
  publish(): void;
}

export const noMetrics: Metrics = { add() {}, publish() {} };

/** Trace spans around calls to what the platform depends on. */
export interface Tracing {
  span<T>(name: string, call: () => Promise<T>): Promise<T>;
}

export const noTracing: Tracing = { span: (_name, call) => call() };
