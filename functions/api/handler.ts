import { handle } from 'hono/aws-lambda';
import { createApiApp } from './app.ts';
import { apiPlatform } from './deps.ts';

const app = createApiApp(await apiPlatform(), { startupChecks: true });

/** API Gateway HTTP API (payload v2) → the Hono app. */
export const handler = handle(app);
