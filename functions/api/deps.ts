import { buildCloudPlatform, platformOnce } from '#shared/composition/cloud.ts';
import { loadConfig } from '#shared/config/load.ts';

/** The composition root of the api function: the only place that reads process.env. */
export const apiPlatform = platformOnce(() =>
  buildCloudPlatform(loadConfig(process.env), process.env, 'minirag-api', { verifiesTokens: true }),
);
