import { ValidationError } from '../domain/errors.ts';
import { type Config, configSchema } from './schema.ts';

export class ConfigError extends ValidationError {}

/**
 * Parses the environment once. A bad value fails fast with a message that names the variable and
 * says what is wrong — never the value itself, which may be a secret.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const config = result.data;
  if (config.VECTOR_STORE === 'qdrant' && !config.QDRANT_URL) {
    throw new ConfigError('Invalid configuration: QDRANT_URL: required when VECTOR_STORE=qdrant');
  }
  if (config.CHUNK_OVERLAP_TOKENS >= config.CHUNK_TOKENS) {
    throw new ConfigError('Invalid configuration: CHUNK_OVERLAP_TOKENS: must be smaller than CHUNK_TOKENS');
  }
  return config;
}
