// The `model` field of a multipart form, read by streaming the body through
// @fastify/busboy while keeping its bytes, at most `limitBytes` of them, to forward unchanged.
//
// Why keep the whole body rather than stream it on: the model field may come after the file
// (form field order is the client's choice), and the form must be read to its end to know no
// second `model` field follows (LiteLLM's form parser keeps the last one) — so nothing can go
// upstream before the last byte is in. File contents are never held as files, only as the
// body's bytes, bounded by BODY_LIMIT whatever Content-Length says (chunked bodies included).
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Busboy, type BusboyHeaders } from '@fastify/busboy';
import { bodyTooLarge, invalidBody, missingModel, OpenAIError } from '../errors/openai-error.ts';

export interface FormModel {
  /** The body as received. */
  body: Buffer;
  /** The one `model` field; undefined when there is none. */
  model: string | undefined;
  /** The `target_model_names` fields (LiteLLM's managed files route to those models). */
  targetModelNames: string[];
}

/** A model name longer than this is no model name (and is not held for long). */
const MODEL_FIELD_LIMIT = 1024;

/** The same 413 a streamed body gets at BODY_LIMIT (proxy/byte-limit.ts): one limit, one answer. */
export const formTooLarge = (limitBytes: number) =>
  // The rest of the body is not read: the connection cannot carry another request.
  bodyTooLarge(limitBytes, { connection: 'close' });

const duplicateModel = () =>
  new OpenAIError({
    status: 400,
    type: 'invalid_request_error',
    reason: 'invalid_body',
    param: 'model',
    message: 'The form names its model more than once; send one "model" field.',
  });

/**
 * True for multipart/form-data, the one form type the gateway reads (OpenAI's SDKs send no
 * other for uploads; an urlencoded form would be one more parser to agree with LiteLLM's).
 */
export function isFormContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  return contentType.trimStart().toLowerCase().startsWith('multipart/form-data');
}

/**
 * Anything in the raw bytes that a lenient parser could take for a part named "model":
 * `name="model"`, `name=model`, `name*=utf-8''model`, in any case. busboy skips parts it finds
 * malformed (a Content-Disposition other than form-data, say) where LiteLLM's parser
 * (python-multipart via Starlette) may read them, and LiteLLM keeps the last "model" it sees:
 * so a form whose bytes name "model" more often than busboy reported is refused.
 */
const MODEL_PART_NAME = /name\s*\*?\s*=\s*(?:[^;\r\n'"]*'[^'\r\n]*')?["']?model(?![\w-])/gi;

function modelNamesIn(body: Buffer): number {
  return body.toString('latin1').match(MODEL_PART_NAME)?.length ?? 0;
}

/**
 * Reads `stream` (a request body of content type `headers['content-type']`) to its end and
 * returns its bytes and its `model` field; an OpenAIError when the form is malformed, names
 * its model more than once (or as a file), or is larger than `limitBytes`.
 */
export function readFormModel(
  stream: Readable,
  headers: IncomingHttpHeaders,
  limitBytes: number,
): Promise<FormModel> {
  return new Promise((resolve, reject) => {
    const declared = Number(headers['content-length'] ?? 0);
    if (declared > limitBytes) return reject(formTooLarge(limitBytes));
    let parser: ReturnType<typeof Busboy>;
    try {
      parser = Busboy({ headers: headers as BusboyHeaders });
    } catch (err) {
      return reject(invalidBody(`The form cannot be read: ${(err as Error).message}`));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let models = 0;
    let model: string | undefined;
    const targetModelNames: string[] = [];
    let done = false;

    const fail = (error: OpenAIError) => {
      if (done) return;
      done = true;
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.pause();
      parser.removeAllListeners();
      parser.on('error', () => {});
      parser.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) return fail(formTooLarge(limitBytes));
      chunks.push(chunk);
      if (!parser.write(chunk)) {
        stream.pause();
        parser.once('drain', () => stream.resume());
      }
    };
    const onEnd = () => parser.end();

    parser.on('field', (name, value, _nameTruncated, valueTruncated) => {
      if (name === 'target_model_names') targetModelNames.push(value);
      if (name !== 'model') return;
      models++;
      if (valueTruncated || value.length > MODEL_FIELD_LIMIT) {
        return fail(invalidBody('The form field "model" is too long to be a model name.'));
      }
      model = value === '' ? undefined : value;
    });
    parser.on('file', (name, file) => {
      // A model sent as a file part is still a model field to LiteLLM's parser: count it.
      if (name === 'model') models++; // and `model` stays undefined: refused
      file.resume(); // its bytes are already kept in `chunks`
    });
    parser.on('error', (err) => {
      fail(invalidBody(`The form cannot be read: ${(err as Error).message}`));
    });
    parser.on('finish', () => {
      if (done) return;
      if (models > 1) return fail(duplicateModel());
      if (models === 1 && model === undefined) return fail(missingModel());
      const body = Buffer.concat(chunks, size);
      if (modelNamesIn(body) > models) return fail(duplicateModel());
      done = true;
      resolve({ body, model, targetModelNames });
    });
    stream.once('error', () => fail(invalidBody('The request body was cut off.')));
    stream.once('aborted', () => fail(invalidBody('The request body was cut off.')));
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.resume();
  });
}
