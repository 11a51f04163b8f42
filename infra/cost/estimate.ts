import { HOURS_PER_MONTH, PRICES, WORKLOAD } from './prices.ts';

/** The part of a CloudFormation template the estimate reads. */
export interface CfnTemplate {
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** Logical ids of the platform's functions in the template. */
export interface FunctionIds {
  readonly api: string;
  readonly chat: string;
  readonly ingest: string;
}

export interface FixedCost {
  readonly item: string;
  readonly count: number;
  readonly monthly: number;
  readonly note: string;
}

export interface VariableCost {
  readonly per: '1,000 API requests' | '1,000 chat answers' | '1,000 ingested chunks';
  readonly total: number;
  readonly parts: { readonly item: string; readonly cost: number }[];
}

export interface CostEstimate {
  readonly fixed: FixedCost[];
  readonly idleMonthly: number;
  readonly variable: VariableCost[];
  /** What an awake Aurora Serverless v2 writer costs per hour at its minimum capacity (0 when it pauses). */
  readonly databaseAwakeHourly: number;
  readonly databaseAccess: 'data-api' | 'proxy' | 'direct' | 'external';
}

const round = (usd: number) => Math.round(usd * 10_000) / 10_000;

function resourcesOf(template: CfnTemplate, type: string) {
  return Object.values(template.Resources).filter((r) => r.Type === type);
}

function lambdaGbSecond(template: CfnTemplate, logicalId: string): { price: number; gb: number } {
  const fn = template.Resources[logicalId];
  if (fn?.Type !== 'AWS::Lambda::Function') {
    throw new Error(`the template has no Lambda function ${logicalId}`);
  }
  const props = fn.Properties ?? {};
  const arm = (props.Architectures as string[] | undefined)?.includes('arm64') ?? false;
  return {
    price: arm ? PRICES.lambdaArmGbSecond : PRICES.lambdaX86GbSecond,
    gb: Number(props.MemorySize ?? 128) / 1024,
  };
}

function lambdaRun(template: CfnTemplate, logicalId: string, seconds: number): number {
  const { price, gb } = lambdaGbSecond(template, logicalId);
  return PRICES.lambdaRequestMillion / 1e6 + seconds * gb * price;
}

const MINUTES_PER_UNIT: Record<string, number> = {
  minute: 1,
  minutes: 1,
  hour: 60,
  hours: 60,
  day: 1440,
  days: 1440,
};

/** The outbox sweep's schedule (`rate(N unit)`), in minutes. */
function sweepIntervalMinutes(template: CfnTemplate): number | undefined {
  for (const rule of resourcesOf(template, 'AWS::Events::Rule')) {
    const match = /^rate\((\d+) (\w+)\)$/.exec(String(rule.Properties?.ScheduleExpression ?? ''));
    const unit = match ? MINUTES_PER_UNIT[match[2]!] : undefined;
    if (match && unit) return Number(match[1]) * unit;
  }
  return undefined;
}

/** How the functions reach PostgreSQL, which decides what a database call costs. */
function databaseAccess(template: CfnTemplate): CostEstimate['databaseAccess'] {
  const cluster = resourcesOf(template, 'AWS::RDS::DBCluster')[0];
  if (!cluster) return 'external';
  if (cluster.Properties?.EnableHttpEndpoint === true) return 'data-api';
  return resourcesOf(template, 'AWS::RDS::DBProxy').length > 0 ? 'proxy' : 'direct';
}

/**
 * Monthly idle cost and per-use cost of a synthesized MiniRAG stack, from its template alone: what the
 * template declares is what AWS bills, so a context change (a profile, alarms off, NAT gateways) shows here
 * without a second source of truth.
 */
export function estimateCost(template: CfnTemplate, functions: FunctionIds): CostEstimate {
  const fixed: FixedCost[] = [];
  const add = (item: string, count: number, each: number, note: string) => {
    if (count > 0) fixed.push({ item, count, monthly: round(count * each), note });
  };

  add(
    'NAT gateway',
    resourcesOf(template, 'AWS::EC2::NatGateway').length,
    PRICES.natGatewayHour * HOURS_PER_MONTH,
    'per hour, plus USD 0.045 per GB it forwards',
  );
  const endpointAzs = resourcesOf(template, 'AWS::EC2::VPCEndpoint')
    .filter((e) => e.Properties?.VpcEndpointType === 'Interface')
    .reduce((azs, e) => azs + ((e.Properties?.SubnetIds as unknown[] | undefined)?.length ?? 1), 0);
  add('Interface VPC endpoint (per AZ)', endpointAzs, PRICES.interfaceEndpointAzHour * HOURS_PER_MONTH, '');

  let databaseAwakeHourly = 0;
  let autoPauseSeconds: number | undefined;
  for (const cluster of resourcesOf(template, 'AWS::RDS::DBCluster')) {
    const scaling = cluster.Properties?.ServerlessV2ScalingConfiguration as
      | { MinCapacity?: number; SecondsUntilAutoPause?: number }
      | undefined;
    const minAcu = Number(scaling?.MinCapacity ?? 0.5);
    const pauses = minAcu === 0;
    if (pauses) autoPauseSeconds = Number(scaling?.SecondsUntilAutoPause ?? 300);
    // A paused cluster resumes at 0.5 ACU, the smallest capacity that serves queries.
    databaseAwakeHourly = (pauses ? 0.5 : minAcu) * PRICES.auroraAcuHour;
    add(
      'Aurora Serverless v2 writer',
      1,
      pauses ? 0 : minAcu * PRICES.auroraAcuHour * HOURS_PER_MONTH,
      pauses
        ? `pauses after ${scaling?.SecondsUntilAutoPause ?? 300} s idle; USD ${round(databaseAwakeHourly)}/h while awake`
        : `${minAcu} ACU minimum, always on`,
    );
    add('Aurora storage (~1 GB)', 1, PRICES.auroraStorageGbMonth, 'per GB-month as data grows');
  }
  add(
    'RDS Proxy',
    resourcesOf(template, 'AWS::RDS::DBProxy').length,
    PRICES.rdsProxyMinimumAcus * PRICES.rdsProxyAcuHour * HOURS_PER_MONTH,
    `billed on at least ${PRICES.rdsProxyMinimumAcus} ACUs`,
  );
  // Resources billed a flat monthly price each.
  const monthlyEach: [item: string, type: string, price: number][] = [
    ['Secrets Manager secret', 'AWS::SecretsManager::Secret', PRICES.secretMonth],
    ['KMS key', 'AWS::KMS::Key', PRICES.kmsKeyMonth],
    ['CloudWatch dashboard', 'AWS::CloudWatch::Dashboard', PRICES.dashboardMonth],
    ['CloudWatch alarm', 'AWS::CloudWatch::Alarm', PRICES.alarmMonth],
  ];
  for (const [item, type, price] of monthlyEach) add(item, resourcesOf(template, type).length, price, '');

  const access = databaseAccess(template);
  const dbCall = access === 'data-api' ? PRICES.dataApiMillion / 1e6 : 0;
  const auroraIo = access === 'external' ? 0 : PRICES.auroraIoMillion / 1e6;
  const perDbCall = dbCall + auroraIo;
  const sweepMinutes = sweepIntervalMinutes(template);
  if (sweepMinutes !== undefined) {
    const runs = (HOURS_PER_MONTH * 60) / sweepMinutes;
    const sweepRun = lambdaRun(template, functions.ingest, WORKLOAD.sweep.lambdaSeconds);
    // Each run reads the database, which resumes a paused cluster for at least its auto-pause delay.
    const wakeHours =
      autoPauseSeconds === undefined ? 0 : Math.min(sweepMinutes * 60, autoPauseSeconds) / 3600;
    add(
      `Outbox sweep (every ${sweepMinutes} min)`,
      1,
      runs * (sweepRun + WORKLOAD.sweep.databaseCalls * perDbCall + wakeHours * databaseAwakeHourly),
      wakeHours > 0 ? 'each run wakes the paused database for its auto-pause delay' : '',
    );
  }

  const hasBucket = resourcesOf(template, 'AWS::S3::Bucket').length > 0;
  const part = (item: string, cost: number) => ({ item, cost: round(cost * 1000) });
  const variable: VariableCost[] = [
    {
      per: '1,000 API requests',
      parts: [
        part('API Gateway HTTP API', PRICES.httpApiMillion / 1e6),
        part('Lambda (api)', lambdaRun(template, functions.api, WORKLOAD.api.lambdaSeconds)),
        part('Database calls', WORKLOAD.api.databaseCalls * perDbCall),
      ],
    },
    {
      per: '1,000 chat answers',
      parts: [
        part('Lambda (chat-stream)', lambdaRun(template, functions.chat, WORKLOAD.chat.lambdaSeconds)),
        part('Database calls', WORKLOAD.chat.databaseCalls * perDbCall),
        part('KMS decrypts', (WORKLOAD.chat.kmsRequests * PRICES.kmsRequests10k) / 10_000),
      ],
    },
    {
      per: '1,000 ingested chunks',
      parts: [
        part(
          'Lambda (ingest)',
          lambdaRun(template, functions.ingest, 0) / WORKLOAD.ingest.chunksPerSource +
            lambdaGbSecond(template, functions.ingest).gb *
              lambdaGbSecond(template, functions.ingest).price *
              WORKLOAD.ingest.lambdaSecondsPerChunk,
        ),
        part(
          'SQS',
          (WORKLOAD.ingest.sqsRequestsPerSource * PRICES.sqsMillion) / 1e6 / WORKLOAD.ingest.chunksPerSource,
        ),
        part(
          'Database calls',
          (WORKLOAD.ingest.databaseCallsPerSource * perDbCall) / WORKLOAD.ingest.chunksPerSource,
        ),
        ...(hasBucket
          ? [
              part(
                'S3 requests',
                (WORKLOAD.ingest.s3PutsPerSource * PRICES.s3Put1k +
                  WORKLOAD.ingest.s3GetsPerSource * PRICES.s3Get1k) /
                  1000 /
                  WORKLOAD.ingest.chunksPerSource,
              ),
            ]
          : []),
      ],
    },
  ].map((v) => ({
    ...v,
    per: v.per as VariableCost['per'],
    total: round(v.parts.reduce((s, p) => s + p.cost, 0)),
  }));

  return {
    fixed,
    idleMonthly: round(fixed.reduce((sum, f) => sum + f.monthly, 0)),
    variable,
    databaseAwakeHourly: round(databaseAwakeHourly),
    databaseAccess: access,
  };
}
