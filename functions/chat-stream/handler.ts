import { streamHandle } from 'hono/aws-lambda';
import { createChatStreamApp } from './app.ts';
import { chatStreamPlatform } from './deps.ts';

const app = createChatStreamApp(await chatStreamPlatform(), { startupChecks: true });

/** Lambda function URL with InvokeMode RESPONSE_STREAM → the Hono app, streamed. */
export const handler = streamHandle(app);
