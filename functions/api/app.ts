import { requestId } from 'hono/request-id';
import { checkReadiness } from '#shared/composition/readiness.ts';
import { answerRoutes } from '#shared/http/answer-routes.ts';
import { bodyLimits } from '#shared/http/body-limits.ts';
import { deploymentCors } from '#shared/http/deployment-cors.ts';
import type { AppEnv } from '#shared/http/env.ts';
import { modelRoutes } from '#shared/http/model-routes.ts';
import { errorToResponse, problemResponse } from '#shared/http/problem.ts';
import { publicRoutes } from '#shared/http/public-routes.ts';
import { readinessGate, readyzHandler } from '#shared/http/readiness.ts';
import { loggerOf, requestLogger } from '#shared/http/request-logger.ts';
import { createRouter } from '#shared/http/router.ts';
import type { Platform } from '#shared/platform.ts';
import { apiReferenceRoutes } from './routes/api-reference.ts';
import { apiTokenRoutes } from './routes/api-tokens.ts';
import { authRoutes } from './routes/auth.ts';
import { botRoutes } from './routes/bots.ts';
import { chatRoutes } from './routes/chats.ts';
import { feedbackRoutes } from './routes/feedback.ts';
import { publishableKeyRoutes } from './routes/publishable-keys.ts';
import { sourceRoutes } from './routes/sources.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { usageRoutes } from './routes/usage.ts';
import { userRoutes } from './routes/users.ts';
import { serveWidget } from './routes/widget.ts';

export const API_VERSION = '0.1.0';

export interface AppOptions {
  /**
   * Run the startup checks on the first request and answer 503 with a misconfiguration from then on
   * (Lambda, where no process start shows it). The local server checks before it listens instead.
   */
  readonly startupChecks?: boolean;
}

/** The REST API (tenants, users, tokens, bots, sources, chats, usage): one Hono app, one sub-app per resource. */
export function createApiApp(p: Platform, options: AppOptions = {}) {
  const app = createRouter();
  const readiness = () => checkReadiness(p);

  app.use('*', requestId());
  app.use('*', requestLogger(p.logger));
  if (options.startupChecks) app.use('*', readinessGate(readiness, p.logger));
  app.use('*', deploymentCors(p.config.CORS_ORIGINS));
  app.use('*', bodyLimits(p.config));

  // Liveness: the process answers. Readiness: what it depends on answers too.
  app.get('/healthz', (c) => c.json({ status: 'ok', version: API_VERSION }));
  app.get('/readyz', readyzHandler(readiness));
  // The website chat widget: one static script, cached long (see routes/widget.ts).
  app.get('/widget.js', serveWidget);

  app.route('/v1/tenants', tenantRoutes(p));
  app.route('/v1/auth', authRoutes(p));
  app.route('/v1/users', userRoutes(p));
  app.route('/v1/api-tokens', apiTokenRoutes(p));
  app.route('/v1/bots', botRoutes(p));
  app.route('/v1/sources', sourceRoutes(p));
  app.route('/v1/chats', chatRoutes(p));
  app.route('/v1/feedback', feedbackRoutes(p));
  app.route('/v1/usage', usageRoutes(p));
  app.route('/v1/publishable-keys', publishableKeyRoutes(p));
  // Website visitors: sessions, chats and (as JSON here) answers; CORS per publishable key.
  app.route('/v1', publicRoutes(p, { streaming: false }));
  // API Gateway buffers responses: here the answer routes always reply with JSON.
  app.route('/v1', answerRoutes(p, { streaming: false }));
  app.route('/v1', modelRoutes(p));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description:
      'A user access token (JWT from POST /v1/auth/token), an API token (mrag_…) or the platform admin token; on the website routes (/v1/public) a publishable key (mrag_pk_…) or a visitor token.',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'MiniRAG API',
      version: API_VERSION,
      description: 'Multi-tenant retrieval-augmented generation. Errors are RFC 9457 problem+json.',
    },
  });
  // Served from this origin, script included: works offline and runs no third-party code beside the API.
  app.route('/docs', apiReferenceRoutes());

  app.notFound((c) => problemResponse(c, 404, 'not-found', `No route for ${c.req.method} ${c.req.path}.`));
  app.onError((error, c) => errorToResponse(error, c, loggerOf(c, p.logger)));
  return app;
}

export type ApiApp = ReturnType<typeof createApiApp>;
export type { AppEnv };
