import { loadConfig } from '#shared/config/load.ts';
import { buildCloudPlatform } from '#shared/composition/cloud.ts';
import type { Platform } from '#shared/platform.ts';

let platform: Promise<Platform> | undefined;

/** The composition root of the api function: built once per container, on the first request. */
export function apiPlatform(): Promise<Platform> {
  platform ??= buildCloudPlatform(loadConfig(process.env), process.env, 'minirag-api').catch((error: unknown) => {
    platform = undefined; // let the next invocation retry a failed cold start
    throw error;
  });
  return platform;
}
