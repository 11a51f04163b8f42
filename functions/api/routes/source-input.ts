import { isIP } from 'node:net';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { detectSourceType } from '#shared/domain/document-type.ts';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '#shared/domain/errors.ts';
import { INLINE_SOURCE_TYPES } from '#shared/domain/source.ts';
import type { AppEnv } from '#shared/http/env.ts';
import { describeIssues } from '#shared/http/router.ts';
import { jsonObject, text } from '#shared/http/schemas.ts';
import { nonPublicAddressReason } from '#shared/rag/fetch/index.ts';
import type { NewSourceInput } from '#shared/usecases/sources.ts';

const Tags = z.array(text(100).min(1)).max(50);
const Title = text(500).min(1);
export const CreateSourceJson = z
  .object({
    title: Title,
    type: z.enum(INLINE_SOURCE_TYPES),
    content: text(50_000_000).min(1).optional(),
    url: z
      .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
      .max(2000)
      .optional(),
    tags: Tags.optional(),
    metadata: jsonObject.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.type === 'url' && !v.url)
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'is required when type is url' });
    const refusal = v.url ? literalAddressRefusal(v.url) : undefined;
    if (refusal) ctx.addIssue({ code: 'custom', path: ['url'], message: refusal });
    if (v.type !== 'url' && !v.content) {
      ctx.addIssue({ code: 'custom', path: ['content'], message: `is required when type is ${v.type}` });
    }
  })
  .openapi('CreateSource');

/**
 * A URL whose host is a literal non-public address can never be fetched, so it is refused at once
 * instead of failing later. Host names are checked when the page is fetched (after DNS, every hop).
 */
function literalAddressRefusal(url: string): string | undefined {
  const host = URL.parse(url)?.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host || !isIP(host)) return undefined;
  const reason = nonPublicAddressReason(host);
  return reason
    ? `is ${reason}: URL sources are fetched only from public addresses (never loopback, private, link-local or metadata addresses)`
    : undefined;
}

export const UploadForm = z.object({
  file: z
    .any()
    .openapi({ type: 'string', format: 'binary', description: 'PDF, DOCX, HTML, Markdown or plain text' }),
  title: z.string().optional(),
  tags: z.string().optional().openapi({ description: 'Comma-separated tags' }),
});

/** Reads either body kind into one input; everything is checked before anything is stored. */
export async function readSourceInput(c: Context<AppEnv>, maxBytes: number): Promise<NewSourceInput> {
  const contentType = c.req.header('content-type') ?? '';
  if (contentType.startsWith('multipart/form-data')) {
    const form = await c.req.parseBody({ all: false });
    const file = form.file;
    if (!(file instanceof File))
      throw new ValidationError('The upload needs a `file` field containing the document.');
    if (file.size > maxBytes)
      throw new PayloadTooLargeError(`The file is larger than the limit of ${maxBytes} bytes.`);
    if (file.size === 0) throw new ValidationError('The uploaded file is empty.');
    const type = detectSourceType(file.name, file.type);
    const tags =
      typeof form.tags === 'string'
        ? form.tags
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean)
        : [];
    const parsedTags = Tags.safeParse(tags);
    if (!parsedTags.success) throw new ValidationError(`tags: ${parsedTags.error.issues[0]?.message}`);
    // An upload's title is held to the same rules as a JSON title, whether given or taken from the file name.
    const given = typeof form.title === 'string' && form.title.trim() ? form.title.trim() : undefined;
    const parsedTitle = Title.safeParse(given ?? file.name);
    if (!parsedTitle.success) {
      const rule = parsedTitle.error.issues[0]?.message;
      throw new ValidationError(
        given ? `title: ${rule}` : `title (taken from the file name): ${rule}; send a \`title\` field`,
      );
    }
    const title = parsedTitle.data;
    return {
      title,
      type,
      content: new Uint8Array(await file.arrayBuffer()),
      contentType: file.type || undefined,
      tags,
    };
  }
  if (!contentType.startsWith('application/json')) {
    throw new UnsupportedMediaTypeError('Send application/json, or multipart/form-data with a `file` field.');
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ValidationError('The request body is not valid JSON.');
  }
  const parsed = CreateSourceJson.safeParse(body);
  if (!parsed.success) {
    const errors = describeIssues(parsed.error.issues, 'body', body);
    throw new ValidationError(
      `The request is not valid. ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
      {
        details: { errors },
      },
    );
  }
  const v = parsed.data;
  if (v.content && Buffer.byteLength(v.content) > maxBytes) {
    throw new PayloadTooLargeError(`The content is larger than the limit of ${maxBytes} bytes.`);
  }
  return { title: v.title, type: v.type, content: v.content, url: v.url, tags: v.tags, metadata: v.metadata };
}
