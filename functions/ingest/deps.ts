import { buildCloudPlatform, platformOnce } from '#shared/composition/cloud.ts';
import { loadConfig } from '#shared/config/load.ts';

/** The composition root of the ingest function: the only place that reads process.env. */
export const ingestPlatform = platformOnce(() =>
  buildCloudPlatform(loadConfig(process.env), process.env, 'minirag-ingest', { verifiesTokens: false }),
);
