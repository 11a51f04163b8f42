import { describe, expect, it } from 'vitest';
import { UnsupportedMediaTypeError, ValidationError } from '#shared/domain/errors.ts';
import { detectSourceType, extractText } from '#shared/rag/extract/index.ts';
import { articlePage, makeDocx, makeImageOnlyPdf, makePdf, tinyPage } from '#test/fixtures/rag/documents.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('extractText', () => {
  it('when given plain text or markdown then it decodes UTF-8 and drops the byte order mark', async () => {
    expect(await extractText({ bytes: utf8('\uFEFFhéllo wörld'), type: 'text' })).toBe('héllo wörld');
    expect(await extractText({ bytes: utf8('# Title\n\nBody'), type: 'markdown' })).toBe('# Title\n\nBody');
  });

  it('when the content type declares another charset then it is honoured', async () => {
    const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9]);
    expect(
      await extractText({ bytes: latin1, type: 'text', contentType: 'text/plain; charset=ISO-8859-1' }),
    ).toBe('café');
  });

  it('when a "text" file is binary then a ValidationError says so', async () => {
    const binary = new Uint8Array(256).map((_, i) => i % 7);
    await expect(extractText({ bytes: binary, type: 'text' })).rejects.toThrow(/does not look like text/);
  });

  it('when given an article page then it keeps the article and drops navigation, scripts and footer', async () => {
    const text = await extractText({ bytes: utf8(articlePage), type: 'html', contentType: 'text/html' });
    expect(text).toContain('# Tenant isolation explained');
    expect(text).toContain('## Credentials');
    expect(text).toContain('row-level security');
    expect(text).toMatch(/missing one does\.\n+## Credentials\n/);
    expect(text).not.toContain('Pricing');
    expect(text).not.toContain('tracking');
    expect(text).not.toContain('color: red');
    expect(text).not.toContain('Privacy');
  });

  it('when Readability finds no article then the whole page is converted to text', async () => {
    const text = await extractText({ bytes: utf8(tinyPage), type: 'html' });
    expect(text.trim()).toBe('Just one line.');
  });

  it('when given a PDF then it extracts the text of every page in order', async () => {
    const bytes = await makePdf([['Hello PDF world.', 'Second line.'], ['Page two text.']]);
    const text = await extractText({ bytes, type: 'pdf' });
    expect(text).toBe('Hello PDF world.\nSecond line.\n\nPage two text.');
    expect(bytes.byteLength).toBeGreaterThan(0); // the caller's buffer is not detached
  });

  it('when the PDF is corrupt then a ValidationError explains it without a stack', async () => {
    const error = await extractText({ bytes: utf8('%PDF-1.7 this is not really a pdf'), type: 'pdf' }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toBe('The PDF could not be read: it is not a valid PDF file.');
    const truncated = (await makePdf([['Some text']])).slice(0, 200);
    await expect(extractText({ bytes: truncated, type: 'pdf' })).rejects.toThrow(
      /^The PDF could not be read/,
    );
  });

  it('when the PDF has no text layer then a ValidationError says OCR is needed', async () => {
    await expect(extractText({ bytes: await makeImageOnlyPdf(), type: 'pdf' })).rejects.toThrow(/OCR/);
  });

  it('when given a Word document then it extracts its paragraphs', async () => {
    const bytes = await makeDocx('Handbook', ['First paragraph.', 'Second paragraph.']);
    const text = await extractText({ bytes, type: 'docx' });
    expect(text.trim()).toBe('Handbook\n\nFirst paragraph.\n\nSecond paragraph.');
  });

  it('when the Word document is corrupt then a ValidationError says so', async () => {
    await expect(extractText({ bytes: utf8('not a zip'), type: 'docx' })).rejects.toThrow(
      new ValidationError('The Word document could not be read: it is not a valid .docx file.'),
    );
  });
});

describe('detectSourceType', () => {
  it('when the extension is known then it decides', () => {
    expect(detectSourceType('report.PDF', 'application/octet-stream')).toBe('pdf');
    expect(detectSourceType('notes.md', undefined)).toBe('markdown');
    expect(detectSourceType('notes.markdown', '')).toBe('markdown');
    expect(detectSourceType('page.htm', undefined)).toBe('html');
    expect(detectSourceType('readme.txt', undefined)).toBe('text');
    expect(detectSourceType('contract.docx', undefined)).toBe('docx');
  });

  it('when the extension is unknown then the media type decides', () => {
    expect(detectSourceType('upload', 'application/pdf')).toBe('pdf');
    expect(detectSourceType('blob', 'text/html; charset=utf-8')).toBe('html');
    expect(detectSourceType(undefined, 'text/markdown')).toBe('markdown');
  });

  it('when the file is of another type then it is refused with a readable message', () => {
    expect(() => detectSourceType('virus.exe', 'application/x-msdownload')).toThrow(
      UnsupportedMediaTypeError,
    );
    expect(() => detectSourceType('photo.png', 'image/png')).toThrow(/cannot read \.png files/);
    expect(() => detectSourceType('old.doc', 'application/msword')).toThrow(/save the document as \.docx/);
    expect(() => detectSourceType('noext', undefined)).toThrow(/type unknown/);
  });
});
