import type { AuthContext } from '../domain/auth-context.ts';

/** Hono context variables shared by the api and chat-stream apps. */
export interface AppVariables {
  requestId: string;
  /** Set by the auth middleware on tenant routes. */
  auth: AuthContext;
  /** Set on public routes once the caller's Origin is checked against its publishable key: CORS answers it. */
  publicOrigin: string;
}

export interface AppEnv {
  Variables: AppVariables;
}
