// BODY_LIMIT for a body that streams through (anything not JSON): its bytes are counted as
// they pass, so a chunked body, which declares no length, is cut at the limit like one that
// declares too much. The error ends the upstream request (undici aborts it), and the gateway
// answers 413 and closes the connection rather than read the rest.
import { Transform, type TransformCallback } from 'node:stream';
import { bodyTooLarge, type OpenAIError } from '../errors/openai-error.ts';

export class ByteLimit extends Transform {
  readonly limitBytes: number;
  #left: number;

  constructor(limitBytes: number) {
    super();
    this.limitBytes = limitBytes;
    this.#left = limitBytes;
    // undici hears the error while it sends the body, forward reads it from `exceeded`; one
    // that comes after undici stopped listening (LiteLLM answered early) must not crash us.
    this.on('error', () => {});
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#left -= chunk.length;
    if (this.#left < 0) return done(bodyTooLarge(this.limitBytes, { connection: 'close' }));
    done(null, chunk);
  }

  /** The 413 this stream ended with, if it was cut at the limit. */
  get exceeded(): OpenAIError | undefined {
    const error = this.errored;
    return error !== null && (error as OpenAIError).reason === 'body_too_large'
      ? (error as OpenAIError)
      : undefined;
  }
}
