// Whether a body that streams on (not JSON by its content type, not a form) is a JSON object
// all the same. LiteLLM reads every body that is not a form as JSON, whatever its content
// type says (proxy/common_utils/http_parsing_utils.py, _read_request_body): a JSON object
// sent as application/vnd.api+json or octet-stream would name models the gateway never read.
// So the gateway looks at the first byte that is not JSON whitespace, and puts every byte it
// read back, for the body to stream on unchanged.
import type { Readable } from 'node:stream';

export type Sniffed = 'json-object' | 'other' | 'blank';

/** JSON's insignificant whitespace: space, tab, line feed, carriage return. */
const isJsonSpace = (byte: number) =>
  byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;

/**
 * 'json-object' when the body's first non-whitespace byte is "{", 'blank' when the body ended
 * holding whitespace only (those bytes cannot be put back once it ended), else 'other'.
 */
export function sniffJsonObject(stream: Readable): Promise<Sniffed> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve('other');
  return new Promise((resolve) => {
    const seen: Buffer[] = [];
    const done = (result: Sniffed) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('close', onClose);
      if (result !== 'blank' && seen.length > 0 && !stream.destroyed) {
        stream.unshift(Buffer.concat(seen));
      }
      resolve(result);
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = stream.read() as Buffer | null) !== null) {
        seen.push(chunk);
        const first = chunk.findIndex((byte) => !isJsonSpace(byte));
        if (first !== -1) return done(chunk[first] === 0x7b ? 'json-object' : 'other');
      }
    };
    const onEnd = () => done(seen.length > 0 ? 'blank' : 'other');
    // Cut off before its first byte: forward sees the same and ends the upstream request.
    const onClose = () => done('other');
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('close', onClose);
  });
}
