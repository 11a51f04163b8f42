import { ValidationError } from '../../domain/errors.ts';

function charsetParameter(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return match?.[1];
}

/** `<meta charset>` or the http-equiv form, looked for where the HTML spec says: the first 1024 bytes. */
function metaCharset(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  const match = /<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)/i.exec(head);
  return match?.[1];
}

function byteOrderMark(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return undefined;
}

function decoderFor(label: string | undefined): TextDecoder {
  try {
    return new TextDecoder(label ?? 'utf-8');
  } catch {
    // An unknown charset label: UTF-8 is by far the most likely real encoding.
    return new TextDecoder('utf-8');
  }
}

/**
 * Bytes of a text, Markdown or HTML document as a string: the byte order mark, else the
 * declared charset, else (HTML) the meta tag, else UTF-8. Invalid sequences become U+FFFD
 * rather than failing the whole document; binary data is refused.
 */
export function decodeText(
  bytes: Uint8Array,
  options: { contentType?: string; html?: boolean } = {},
): string {
  const label =
    byteOrderMark(bytes) ??
    charsetParameter(options.contentType) ??
    (options.html ? metaCharset(bytes) : undefined);
  const text = decoderFor(label).decode(bytes);
  const sample = text.slice(0, 4096);
  let controls = 0;
  for (let i = 0; i < sample.length; i++) {
    const code = sample.charCodeAt(i);
    if (code === 0 || (code < 32 && code !== 9 && code !== 10 && code !== 13 && code !== 12)) controls++;
  }
  if (sample.length > 0 && controls / sample.length > 0.1) {
    throw new ValidationError('The file does not look like text: it contains binary data.');
  }
  return text;
}
