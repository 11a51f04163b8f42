import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../ports/logger.ts';

/** Structured JSON logs (Powertools) in Lambda and locally alike. */
export function createLogger(config: Config, serviceName: string): Logger {
  const logger = new PowertoolsLogger({
    serviceName,
    logLevel: config.LOG_LEVEL.toUpperCase() as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT',
  });
  return {
    debug: (message, fields) => logger.debug(message, fields ?? {}),
    info: (message, fields) => logger.info(message, fields ?? {}),
    warn: (message, fields) => logger.warn(message, fields ?? {}),
    error: (message, fields) => logger.error(message, fields ?? {}),
  };
}
