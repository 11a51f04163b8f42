import Table from 'cli-table3';
import { type CliConfig, maskToken } from '../client/config-file.ts';
import type { IngestOutcome } from '../client/ingest-runner.ts';
import type { ApiTokenJson, BotJson, UsageJson } from '../client/types.ts';
import { green, red, yellow } from './style.ts';

const table = (head: string[]) =>
  new Table({
    head,
    style: { head: process.stdout.isTTY && !process.env.NO_COLOR ? ['cyan'] : [], border: [] },
    wordWrap: true,
  });

const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '—');

export function tokensTable(tokens: readonly ApiTokenJson[]): string {
  const t = table(['id', 'name', 'prefix', 'scopes', 'expires', 'last used', 'status']);
  for (const k of tokens) {
    t.push([
      k.id,
      k.name,
      k.prefix,
      k.scopes.join(', '),
      day(k.expires_at),
      day(k.last_used_at),
      k.revoked_at ? red('revoked') : green('active'),
    ]);
  }
  return t.toString();
}

export function botsTable(bots: readonly BotJson[]): string {
  const t = table(['id', 'name', 'provider', 'model', 'credentials']);
  for (const b of bots) {
    t.push([
      b.id,
      b.name,
      b.provider ?? 'none (extractive)',
      b.model ?? '—',
      b.credentials.configured ? `configured ${b.credentials.last4 ?? ''}` : '—',
    ]);
  }
  return t.toString();
}

export function usageTable(usage: UsageJson): string {
  const t = table([usage.group_by, 'kind', 'events', 'input tokens', 'output tokens', 'cost (USD)']);
  const totals = { events: 0, input: 0, output: 0, cost: 0 };
  for (const r of usage.data) {
    t.push([r.key ?? '—', r.kind, r.events, r.input_tokens, r.output_tokens, r.cost_usd.toFixed(4)]);
    totals.events += r.events;
    totals.input += r.input_tokens;
    totals.output += r.output_tokens;
    totals.cost += r.cost_usd;
  }
  t.push(['total', '', totals.events, totals.input, totals.output, totals.cost.toFixed(4)]);
  return t.toString();
}

export function ingestSummaryTable(outcomes: readonly IngestOutcome[]): string {
  const t = table(['file', 'status', 'chunks', 'source id / reason']);
  for (const o of outcomes) {
    if (o.status === 'COMPLETED') t.push([o.file, green(o.status), o.chunks, o.sourceId]);
    else if (o.status === 'FAILED') t.push([o.file, red(o.status), '—', o.reason]);
    else if (o.status === 'QUEUED') t.push([o.file, yellow('queued'), '—', o.sourceId]);
    else t.push([o.file, yellow('already ingested'), o.chunks ?? '—', o.sourceId]);
  }
  return t.toString();
}

/** The saved profiles, the current one marked with *; tokens masked. */
export function profilesTable(config: CliConfig): string {
  const t = table(['', 'profile', 'tenant', 'API URL', 'token']);
  for (const [name, p] of Object.entries(config.profiles))
    t.push([config.current === name ? '*' : '', name, p.tenant ?? '—', p.api_url, maskToken(p.token)]);
  return t.toString();
}
