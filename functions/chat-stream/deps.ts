import { buildCloudPlatform, platformOnce } from '#shared/composition/cloud.ts';
import { loadConfig } from '#shared/config/load.ts';

/** The composition root of the chat-stream function: the only place that reads process.env. */
export const chatStreamPlatform = platformOnce(() =>
  buildCloudPlatform(loadConfig(process.env), process.env, 'minirag-chat-stream', { verifiesTokens: true }),
);
