import type { AuthContext } from '../domain/auth-context.ts';

/** Hono context variables shared by the api and chat-stream apps. */
export interface AppVariables {
  requestId: string;
  /** Set by the auth middleware on tenant routes. */
  auth: AuthContext;
}

export interface AppEnv {
  Variables: AppVariables;
}
