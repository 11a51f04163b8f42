import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export const METRICS_NAMESPACE = 'MiniRAG';

/** The Powertools logger/metrics/tracer settings every function gets (read by `deps.ts` through the config). */
export function powertoolsEnvironment(
  serviceName: string,
  logLevel: string,
  stage: string,
): Record<string, string> {
  return {
    POWERTOOLS_SERVICE_NAME: serviceName,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    MINIRAG_STAGE: stage,
    LOG_LEVEL: logLevel,
  };
}

/** One of the functions' own metrics (EMF), as the dashboard reads it: by service (the function) and stage. */
export function appMetric(
  name: string,
  serviceName: string,
  stage: string,
  statistic: string,
  label?: string,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: serviceName, stage },
    statistic,
    period: Duration.minutes(5),
    ...(label ? { label } : {}),
  });
}

export interface ObservedFunction {
  /** Short label used in alarm names and dashboard titles, e.g. `api`. */
  readonly name: string;
  readonly function: lambda.IFunction;
}

export interface ObservabilityProps {
  readonly stage: string;
  readonly functions: ObservedFunction[];
  readonly httpApi: apigwv2.IHttpApi;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** Alarms built elsewhere (the ingest DLQ depth alarm) that should notify the same topic. */
  readonly extraAlarms: cloudwatch.Alarm[];
  readonly alarmEmail?: string;
}

/**
 * Alarms on function errors and throttles (plus the alarms handed in), all notifying one SNS topic that the
 * alarm e-mail subscribes to when given, and a CloudWatch dashboard of the API, the functions and the queues.
 */
export class Observability extends Construct {
  readonly alarmTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `MiniRAG ${props.stage} alarms`,
      enforceSSL: true,
    });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    const notify = new actions.SnsAction(this.alarmTopic);

    for (const { name, function: fn } of props.functions) {
      this.alarms.push(
        new cloudwatch.Alarm(this, `${name}Errors`, {
          alarmDescription: `MiniRAG ${props.stage}: the ${name} function reported errors`,
          metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
        new cloudwatch.Alarm(this, `${name}Throttles`, {
          alarmDescription: `MiniRAG ${props.stage}: the ${name} function was throttled`,
          metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    for (const alarm of [...this.alarms, ...props.extraAlarms]) {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `MiniRAG-${props.stage}`,
      defaultInterval: Duration.hours(3),
    });
    const api = props.httpApi;
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'HTTP API requests and errors',
        left: [api.metricCount(), api.metricClientError(), api.metricServerError()],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'HTTP API latency (p50, p99)',
        left: [api.metricLatency({ statistic: 'p50' }), api.metricLatency({ statistic: 'p99' })],
        width: 12,
      }),
    );
    for (const { name, function: fn } of props.functions) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: `${name}: invocations, errors, throttles`,
          left: [fn.metricInvocations(), fn.metricErrors(), fn.metricThrottles()],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: `${name}: duration (p50, p99)`,
          left: [fn.metricDuration({ statistic: 'p50' }), fn.metricDuration({ statistic: 'p99' })],
          width: 12,
        }),
      );
    }
    const chat = (name: string, statistic: string, label?: string) =>
      appMetric(name, 'minirag-chat-stream', props.stage, statistic, label);
    const ingest = (name: string, statistic = 'Sum') =>
      appMetric(name, 'minirag-ingest', props.stage, statistic);
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Answers: time to first token and total (p50, p99)',
        left: [
          chat('AnswerFirstTokenLatency', 'p50', 'first token p50'),
          chat('AnswerFirstTokenLatency', 'p99', 'first token p99'),
          chat('AnswerLatency', 'p50', 'total p50'),
          chat('AnswerLatency', 'p99', 'total p99'),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Answers: tokens in and out, retrieval candidates',
        left: [chat('AnswerInputTokens', 'Sum'), chat('AnswerOutputTokens', 'Sum')],
        right: [chat('RetrievalCandidates', 'Average')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Answer errors by kind',
        left: [
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${METRICS_NAMESPACE},kind,service,stage} MetricName="AnswerErrors" service="minirag-chat-stream" stage="${props.stage}"', 'Sum', 300)`,
            label: '',
            period: Duration.minutes(5),
          }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Ingest: sources completed and failed, chunks stored',
        left: [ingest('SourcesCompleted'), ingest('SourcesFailed')],
        right: [ingest('ChunksStored')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Ingest: embedding calls and tokens',
        left: [ingest('EmbeddingCalls')],
        right: [ingest('EmbeddingTokens')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Ingest: duration per source (p50, p99)',
        left: [ingest('IngestDuration', 'p50'), ingest('IngestDuration', 'p99')],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Ingest queue: visible messages and age of oldest',
        left: [props.queue.metricApproximateNumberOfMessagesVisible()],
        right: [props.queue.metricApproximateAgeOfOldestMessage()],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue depth',
        left: [props.deadLetterQueue.metricApproximateNumberOfMessagesVisible()],
        width: 12,
      }),
    );
  }

  /** Console link to the dashboard (an output of the stack). */
  get dashboardUrl(): string {
    const region = Stack.of(this).region;
    return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;
  }
}
