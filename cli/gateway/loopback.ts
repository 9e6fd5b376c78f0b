// The CLI's end of the browser login: an HTTP listener on 127.0.0.1 at a port the system
// picks, waiting for the gateway to send the browser back with ?code=…&state=…. A request
// whose state is not this login's is answered 400 and ignored (another page cannot hand us
// a code of its choosing). The browser's request is held until `finish` has exchanged the
// code, so the page it shows says whether the login worked.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sameSecret } from '../../contracts/cli-login/same-secret.ts';

export const CALLBACK_PATH = '/callback';

export interface Loopback {
  redirectUri: string;
  /**
   * Waits for the browser's return and answers it with what `finish(code)` resolves to (its
   * message shown on the page); rejects after `timeoutMs`, or with finish's error.
   */
  receive<T>(finish: (code: string) => Promise<T>, timeoutMs: number): Promise<T>;
  close(): void;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res: ServerResponse, status: number, title: string, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
      `<body><main><h1>${title}</h1><p>${escapeHtml(text)}</p></main></body></html>\n`,
  );
}

export async function listenOnLoopback(state: string): Promise<Loopback> {
  let onRequest: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) =>
    page(res, 503, 'Not ready', 'kubectl llm login is not waiting for a login yet.');
  const server = createServer((req, res) => onRequest(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const close = () => {
    server.close();
    server.closeAllConnections();
  };
  return {
    redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    close,
    receive: (finish, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no login came back within ${Math.round(timeoutMs / 1000)}s`));
        }, timeoutMs);
        let taken = false;
        onRequest = (req, res) => {
          const url = new URL(req.url ?? '/', 'http://127.0.0.1');
          const code = url.searchParams.get('code');
          const returned = url.searchParams.get('state') ?? '';
          if (url.pathname !== CALLBACK_PATH || !code || !sameSecret(returned, state) || taken) {
            page(res, 400, 'Not this login', 'This is not the login kubectl llm is waiting for.');
            return;
          }
          taken = true;
          clearTimeout(timer);
          finish(code).then(
            (result) => {
              page(
                res,
                200,
                'Logged in',
                'You are logged in: you can close this window and go back to the terminal.',
              );
              resolve(result);
            },
            (err: unknown) => {
              page(res, 400, 'Login failed', (err as Error).message);
              reject(err as Error);
            },
          );
        };
      }),
  };
}
