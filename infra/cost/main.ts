import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { ContextError } from '../config.ts';
import { type CostEstimate, estimateCost } from './estimate.ts';
import { PRICES_READ_ON, PRICES_REGION } from './prices.ts';
import { synthesizeForCost } from './synthesize.ts';

/**
 * `npm run cost [-- -c key=value …] [--region-factor 1.1]`: the monthly cost of the stack the same context
 * would deploy. Without `-c databaseMode=…` it estimates every database profile side by side.
 */
export const DATABASE_PROFILES = ['serverless', 'aurora', 'external'] as const;

const usd = (v: number) => (v >= 1 ? `$${v.toFixed(2)}` : `$${v.toFixed(4)}`);

function parseContext(pairs: string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new ContextError(`-c takes key=value, got "${pair}"`);
    context[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return context;
}

function scaled(estimate: CostEstimate, factor: number): CostEstimate {
  const s = (v: number) => v * factor;
  return {
    ...estimate,
    fixed: estimate.fixed.map((f) => ({ ...f, monthly: s(f.monthly) })),
    idleMonthly: s(estimate.idleMonthly),
    databaseAwakeHourly: s(estimate.databaseAwakeHourly),
    variable: estimate.variable.map((v) => ({
      ...v,
      total: s(v.total),
      parts: v.parts.map((p) => ({ ...p, cost: s(p.cost) })),
    })),
  };
}

function printProfile(name: string, estimate: CostEstimate): void {
  const fixed = new Table({ head: ['Fixed (idle)', 'count', 'USD / month', 'note'] });
  for (const f of estimate.fixed) fixed.push([f.item, f.count, usd(f.monthly), f.note]);
  fixed.push(['Total before the first request', '', usd(estimate.idleMonthly), '']);
  console.log(`\n${name}  (database access: ${estimate.databaseAccess})`);
  console.log(fixed.toString());
  const variable = new Table({ head: ['Per use (platform only, model tokens excluded)', 'USD'] });
  for (const v of estimate.variable) {
    variable.push([`per ${v.per}`, usd(v.total)]);
    for (const p of v.parts) variable.push([`  ${p.item}`, usd(p.cost)]);
  }
  console.log(variable.toString());
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      context: { type: 'string', short: 'c', multiple: true, default: [] },
      'region-factor': { type: 'string', default: '1' },
    },
  });
  const factor = Number(values['region-factor']);
  if (!Number.isFinite(factor) || factor <= 0)
    throw new ContextError('--region-factor must be a positive number');
  const context = parseContext(values.context ?? []);
  const projectRoot = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
  const profiles = context.databaseMode ? [context.databaseMode] : [...DATABASE_PROFILES];

  console.log(
    `MiniRAG monthly cost estimate — ${PRICES_REGION} list prices read on ${PRICES_READ_ON}` +
      (factor === 1 ? '' : `, × ${factor} for the region`) +
      '\nFree tiers are not counted; model and embedding tokens are billed by their provider.',
  );
  const summary = new Table({
    head: [
      'profile',
      'idle / month',
      'per 1k API requests',
      'per 1k chat answers',
      'per 1k chunks',
      'DB awake / h',
    ],
  });
  for (const databaseMode of profiles) {
    const { template, functions } = synthesizeForCost(projectRoot, { ...context, databaseMode });
    const estimate = scaled(estimateCost(template, functions), factor);
    printProfile(databaseMode, estimate);
    summary.push([
      databaseMode,
      usd(estimate.idleMonthly),
      ...estimate.variable.map((v) => usd(v.total)),
      estimate.databaseAwakeHourly ? usd(estimate.databaseAwakeHourly) : '-',
    ]);
  }
  if (profiles.length > 1) {
    console.log('\nSummary');
    console.log(summary.toString());
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof ContextError ? error.message : error);
  process.exit(1);
});
