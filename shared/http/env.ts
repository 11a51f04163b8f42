import type { AuthContext } from '../domain/auth-context.ts';
import type { Logger } from '../ports/logger.ts';
import type { TraceRecorder } from '../usecases/answering/trace-recorder.ts';

/** Hono context variables shared by the api and chat-stream apps. */
export interface AppVariables {
  requestId: string;
  /** Set by the auth middleware on tenant routes. */
  auth: AuthContext;
  /** Set on the routes that answer in a chat when answer traces are on. */
  answerTrace?: TraceRecorder;
  /** The request's logger: request id, then tenant id and message id, on every line. */
  logger?: Logger;
  /** When an answer route received the request (a `performance.now()` reading). */
  receivedAt?: number;
  /** Set on public routes once the caller's Origin is checked against its publishable key: CORS answers it. */
  publicOrigin: string;
}

export interface AppEnv {
  Variables: AppVariables;
}
