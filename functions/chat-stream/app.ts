import { requestId } from 'hono/request-id';
import { checkReadiness } from '#shared/composition/readiness.ts';
import { answerRoutes } from '#shared/http/answer-routes.ts';
import { bodyLimits } from '#shared/http/body-limits.ts';
import { deploymentCors } from '#shared/http/deployment-cors.ts';
import { modelRoutes } from '#shared/http/model-routes.ts';
import { errorToResponse, problemResponse } from '#shared/http/problem.ts';
import { publicRoutes } from '#shared/http/public-routes.ts';
import { readinessGate, readyzHandler } from '#shared/http/readiness.ts';
import { loggerOf, requestLogger } from '#shared/http/request-logger.ts';
import { createRouter } from '#shared/http/router.ts';
import type { Platform } from '#shared/platform.ts';

/**
 * The streaming function (Lambda function URL, RESPONSE_STREAM): asking questions with answers streamed
 * as Server-Sent Events. Authentication is our own bearer token, checked by the same middleware as the API.
 */
export function createChatStreamApp(p: Platform, options: { readonly startupChecks?: boolean } = {}) {
  const app = createRouter();
  const readiness = () => checkReadiness(p);
  app.use('*', requestId());
  app.use('*', requestLogger(p.logger));
  if (options.startupChecks) app.use('*', readinessGate(readiness, p.logger));
  app.use('*', deploymentCors(p.config.CORS_ORIGINS));
  app.use('*', bodyLimits(p.config));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', readyzHandler(readiness));
  app.route('/v1', answerRoutes(p, { streaming: true }));
  // Website visitors: the widget's sessions, chats and streamed answers.
  app.route('/v1', publicRoutes(p, { streaming: true }));
  // Clients given the function URL as their OpenAI base URL list models there too.
  app.route('/v1', modelRoutes(p));
  app.notFound((c) => problemResponse(c, 404, 'not-found', `No route for ${c.req.method} ${c.req.path}.`));
  app.onError((error, c) => errorToResponse(error, c, loggerOf(c, p.logger)));
  return app;
}
