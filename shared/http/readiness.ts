import type { Context, MiddlewareHandler } from 'hono';
import type { ReadinessReport } from '../composition/readiness.ts';
import type { Logger } from '../ports/logger.ts';
import { problemResponse } from './problem.ts';

const RETRY_AFTER_SECONDS = 5;

/** The problem+json that says which checks failed and what to do about each. */
export function notReadyResponse(c: Context, report: ReadinessReport): Response {
  const failed = report.checks.filter((check) => !check.ok);
  const misconfigured = failed.some((check) => check.misconfigured);
  return problemResponse(
    c,
    503,
    'service-unavailable',
    failed.map((check) => `${check.name}: ${check.detail}`).join(' '),
    { checks: report.checks },
    // A misconfiguration stays until an operator fixes it: no promise of an early retry.
    misconfigured ? {} : { 'retry-after': String(RETRY_AFTER_SECONDS) },
  );
}

/** GET /readyz for load balancers and `minirag doctor`: 200 with every check, or 503 naming the failures. */
export function readyzHandler(check: () => Promise<ReadinessReport>) {
  return async (c: Context) => {
    const report = await check();
    return report.ready ? c.json({ status: 'ready', checks: report.checks }) : notReadyResponse(c, report);
  };
}

/**
 * For Lambda, where nobody sees a failed start: the checks run on the first request of a container. A
 * misconfiguration (pgvector missing, the schema behind the code) is logged once and every later request
 * answers 503 with it, instead of failing deep inside each one. An outage is not remembered: the checks
 * run again on the next request, and the request itself fails fast on its own.
 */
export function readinessGate(check: () => Promise<ReadinessReport>, logger: Logger): MiddlewareHandler {
  let verdict: Promise<ReadinessReport | undefined> | undefined;
  const settle = async (): Promise<ReadinessReport | undefined> => {
    const report = await check();
    if (report.ready) return undefined;
    const misconfigured = report.checks.some((c) => !c.ok && c.misconfigured);
    logger.error(misconfigured ? 'startup checks failed' : 'startup checks met an outage', {
      problems: report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`),
    });
    if (!misconfigured) verdict = undefined; // try again on the next request
    return misconfigured ? report : undefined;
  };
  return async (c, next) => {
    if (c.req.path === '/healthz') return next();
    verdict ??= settle().catch(() => {
      verdict = undefined;
      return undefined;
    });
    const failed = await verdict;
    if (failed) return notReadyResponse(c, failed);
    return next();
  };
}
