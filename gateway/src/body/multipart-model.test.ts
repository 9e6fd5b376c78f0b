import { Readable } from 'node:stream';
import { refusal } from '../../../test/fixtures/refusal.ts';
import { describe, expect, it } from 'vitest';
import { isFormContentType, readFormModel } from './multipart-model.ts';

const BOUNDARY = 'xyz';
const TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

function form(parts: { name: string; value: string; filename?: string }[]): Buffer {
  return Buffer.from(
    parts
      .map(
        (p) =>
          `--${BOUNDARY}\r\ncontent-disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"\r\ncontent-type: audio/wav` : ''}\r\n\r\n${p.value}\r\n`,
      )
      .join('') + `--${BOUNDARY}--\r\n`,
  );
}

/** The body as a stream of `size`-byte chunks (a field may be split anywhere). */
const chunked = (body: Buffer, size: number) =>
  Readable.from(
    Array.from({ length: Math.ceil(body.length / size) }, (_, i) =>
      body.subarray(i * size, (i + 1) * size),
    ),
  );

describe('readFormModel', () => {
  it('finds the model before or after the file, in chunks of any size, and keeps every byte', async () => {
    const file = { name: 'file', value: 'RIFF'.repeat(500), filename: 'a.wav' };
    for (const parts of [
      [{ name: 'model', value: 'whisper' }, file],
      [file, { name: 'language', value: 'en' }, { name: 'model', value: 'whisper' }],
    ]) {
      const body = form(parts);
      for (const size of [1, 7, 4096]) {
        const read = await readFormModel(chunked(body, size), { 'content-type': TYPE }, 1 << 20);
        expect(read.model).toBe('whisper');
        expect(read.body.equals(body)).toBe(true);
      }
    }
  });

  it('gives no model for a form without one', async () => {
    const none = await readFormModel(
      Readable.from([form([{ name: 'prompt', value: 'x' }])]),
      { 'content-type': TYPE },
      1024,
    );
    expect(none.model).toBeUndefined();
  });

  it('refuses two model fields, a model sent as a file, or an empty one', async () => {
    const twice = form([
      { name: 'model', value: 'a' },
      { name: 'model', value: 'b' },
    ]);
    expect(
      (await refusal(readFormModel(Readable.from([twice]), { 'content-type': TYPE }, 1024)))
        .statusCode,
    ).toBe(400);
    const asFile = form([{ name: 'model', value: 'a', filename: 'm.txt' }]);
    expect(
      (await refusal(readFormModel(Readable.from([asFile]), { 'content-type': TYPE }, 1024))).param,
    ).toBe('model');
    const empty = form([{ name: 'model', value: '' }]);
    expect(
      (await refusal(readFormModel(Readable.from([empty]), { 'content-type': TYPE }, 1024))).param,
    ).toBe('model');
  });

  it('refuses a form naming "model" in a part busboy skips, which LiteLLM may still read', async () => {
    const allowed = form([{ name: 'model', value: 'whisper' }]).toString('latin1');
    for (const hidden of [
      'content-disposition: attachment; name="model"',
      'Content-Disposition: form-data; NAME=model',
      "content-disposition: form-data; name*=utf-8''model",
    ]) {
      const body = Buffer.from(
        allowed.replace(
          `--${BOUNDARY}--`,
          `--${BOUNDARY}\r\n${hidden}\r\n\r\nsecret\r\n--${BOUNDARY}--`,
        ),
        'latin1',
      );
      const error = await refusal(
        readFormModel(Readable.from([body]), { 'content-type': TYPE }, 4096),
      );
      expect(error.param, hidden).toBe('model');
    }
    // A field merely named like the model is not one.
    const lookalike = form([
      { name: 'model', value: 'whisper' },
      { name: 'model_version', value: '2' },
      { name: 'modelx', value: '2' },
    ]);
    const read = await readFormModel(Readable.from([lookalike]), { 'content-type': TYPE }, 4096);
    expect(read.model).toBe('whisper');
  });

  it('refuses a body over the limit by counting its bytes, whatever its length says', async () => {
    const body = form([
      { name: 'model', value: 'whisper' },
      { name: 'file', value: 'x'.repeat(5000), filename: 'a.wav' },
    ]);
    const counted = await refusal(
      readFormModel(chunked(body, 512), { 'content-type': TYPE }, 4096),
    );
    expect(counted.statusCode).toBe(413);
    expect(counted.headers.connection).toBe('close');
    const declared = await refusal(
      readFormModel(chunked(body, 512), { 'content-type': TYPE, 'content-length': '999999' }, 4096),
    );
    expect(declared.statusCode).toBe(413);
  });

  it('refuses a malformed form: no boundary, cut off', async () => {
    const noBoundary = await refusal(
      readFormModel(
        Readable.from([Buffer.from('x')]),
        { 'content-type': 'multipart/form-data' },
        1024,
      ),
    );
    expect(noBoundary.statusCode).toBe(400);
    const body = form([{ name: 'model', value: 'whisper' }]);
    const cut = await refusal(
      readFormModel(
        Readable.from([body.subarray(0, body.length - 10)]),
        { 'content-type': TYPE },
        1024,
      ),
    );
    expect(cut.statusCode).toBe(400);
  });
});

describe('isFormContentType', () => {
  it('is true for multipart forms only', () => {
    expect(isFormContentType('multipart/form-data; boundary=x')).toBe(true);
    expect(isFormContentType('Multipart/Form-Data; boundary=x')).toBe(true);
    expect(isFormContentType('application/x-www-form-urlencoded')).toBe(false);
    expect(isFormContentType('application/json')).toBe(false);
    expect(isFormContentType('audio/wav')).toBe(false);
    expect(isFormContentType(undefined)).toBe(false);
  });
});
