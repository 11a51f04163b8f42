import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename } from 'node:path';
import type { ApiClient } from './api-client.ts';
import type { SourceJson } from './types.ts';

/** What `POST /v1/sources/uploads` answers. */
export interface UploadTicket {
  readonly source_id: string;
  readonly upload: { readonly method: 'PUT'; readonly url: string; readonly headers: Record<string, string> };
  readonly expires_at: string;
}

export interface FileUpload {
  readonly path: string;
  readonly title: string;
  readonly contentType: string;
  readonly tags: readonly string[];
  /** Bytes sent so far, of `total`, as the upload goes. */
  readonly onBytes?: (sent: number, total: number) => void;
}

export class UploadError extends Error {
  override readonly name = 'UploadError';
}

/**
 * A direct upload: declares the file, streams its bytes to the URL the server hands out (S3 or the local
 * server; never held in memory whole), then completes it, which queues the ingestion.
 */
export async function uploadFile(client: ApiClient, file: FileUpload): Promise<SourceJson> {
  const size = (await stat(file.path)).size;
  const ticket = await client.post<UploadTicket>('/v1/sources/uploads', {
    json: {
      filename: basename(file.path),
      content_type: file.contentType,
      size_bytes: size,
      title: file.title,
      ...(file.tags.length ? { tags: file.tags } : {}),
    },
  });
  await putFile(ticket, file.path, size, file.onBytes);
  return client.post<SourceJson>(`/v1/sources/${ticket.source_id}/complete`);
}

/** PUT with an exact Content-Length (S3 refuses chunked bodies, and the signature covers the length). */
function putFile(
  ticket: UploadTicket,
  path: string,
  size: number,
  onBytes?: (sent: number, total: number) => void,
): Promise<void> {
  const url = new URL(ticket.upload.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: ticket.upload.method,
      headers: { ...ticket.upload.headers, 'content-length': String(size) },
    });
    req.on('error', (error) => reject(new UploadError(`The upload failed: ${error.message}`)));
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        if (res.statusCode && res.statusCode < 300) return resolve();
        const body = Buffer.concat(parts).toString('utf8');
        const detail = /"detail"\s*:\s*"([^"]+)"/.exec(body)?.[1] ?? /<Message>([^<]+)</.exec(body)?.[1];
        reject(new UploadError(`The upload was refused (${res.statusCode})${detail ? `: ${detail}` : ''}`));
      });
    });
    let sent = 0;
    const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
    stream.on('data', (chunk) => {
      sent += chunk.length;
      onBytes?.(sent, size);
    });
    stream.on('error', (error) => {
      req.destroy();
      reject(new UploadError(`Cannot read ${path}: ${error.message}`));
    });
    stream.pipe(req);
  });
}
