// Sessions and pending logins in Redis, so every gateway replica knows every session.
//
//   <ROUTING_PREFIX>session:<sha256(id)>  a signed-in person (JSON SessionData); TTL = the idle
//                                         lifetime, renewed on use, never past the absolute
//                                         deadline stored inside
//   <ROUTING_PREFIX>login:<sha256(id)>    a login under way (state, nonce, PKCE verifier);
//                                         10 minutes, taken with GETDEL so it serves once
//   <ROUTING_PREFIX>cli-code:<sha256(c)>  a finished `kubectl llm login` waiting for the CLI to
//                                         exchange its one-time code (cli-login.ts); 60 s,
//                                         taken with GETDEL so it serves once
//
// A CLI session (`kind: 'cli'`) is a session like a browser's, with its own lifetime
// (CLI_SESSION_LIFETIME), presented as a bearer token instead of a cookie.
//
// Keys hold a hash of the cookie's id, not the id: a copy of Redis is not a set of live
// cookies. Redis failing is not hidden: the calls reject and the people side answers 503.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { UserRole } from '../../../crds/api/user.ts';

export interface SessionData {
  userName: string;
  login: string;
  role: UserRole;
  groups: string[];
  /** The identity provider's issuer and subject (User spec.identity). */
  issuer: string;
  subject: string;
  csrfToken: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms after which the session is over whatever its use. */
  absoluteDeadline: number;
  /** For RP-initiated logout (id_token_hint). */
  idToken?: string;
  refreshToken?: string;
  /** When the provider's tokens expire (epoch ms): then they are refreshed. */
  tokensExpireAt?: number;
  /** 'cli': a `kubectl llm login` token, accepted only as a bearer token (never as a cookie). */
  kind?: 'cli';
  /** The idle lifetime of this session, when not the store's (a CLI session's). */
  idleLifetimeMs?: number;
}

/** What a session is made from: everything but what the store adds. */
export type NewSession = Omit<SessionData, 'csrfToken' | 'createdAt' | 'absoluteDeadline'>;

/** A login that must end at the CLI's loopback address rather than in a browser session. */
export interface CliLoginRequest {
  /** http://127.0.0.1:PORT/… (or localhost, [::1]): where the one-time code goes. */
  redirectUri: string;
  /** The CLI's own state, returned beside the code. */
  state: string;
  /** base64url(SHA-256(verifier)): the CLI must show the verifier to exchange the code. */
  codeChallenge: string;
}

/** A finished CLI login, waiting for its code to be exchanged. */
export interface CliCode extends Omit<CliLoginRequest, 'state'> {
  session: NewSession;
}

export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Where the browser goes after the login (a path on this gateway). */
  returnTo: string;
  /** Set when `kubectl llm login` started this login (/auth/cli/login). */
  cli?: CliLoginRequest;
}

export const PENDING_LOGIN_TTL_MS = 10 * 60_000;
/** How long a CLI login's one-time code may wait for its exchange. */
export const CLI_CODE_TTL_MS = 60_000;
/** How long a call waits for a Redis connection that is not ready before it fails. */
const CONNECT_WAIT_MS = 1_000;

/** A fresh random identifier: 256 bits, base64url. */
export const randomId = () => randomBytes(32).toString('base64url');

const hashed = (id: string) => createHash('sha256').update(id).digest('base64url');

export interface SessionStoreOptions {
  redis: Redis;
  prefix: string;
  idleLifetimeMs: number;
  absoluteLifetimeMs: number;
  /** How long a one-time CLI code lives. Default CLI_CODE_TTL_MS (tests shorten it). */
  cliCodeTtlMs?: number;
  now?: () => number;
}

export class SessionStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #idleMs: number;
  readonly #absoluteMs: number;
  readonly #cliCodeTtlMs: number;
  readonly #now: () => number;

  constructor(options: SessionStoreOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix;
    this.#idleMs = options.idleLifetimeMs;
    this.#absoluteMs = options.absoluteLifetimeMs;
    this.#cliCodeTtlMs = options.cliCodeTtlMs ?? CLI_CODE_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The connection fails commands while it is not ready (no offline queue: /v1 must not wait
   * on it). A login is worth a short wait for a connection being (re)made, not more.
   */
  async #connected(): Promise<Redis> {
    const redis = this.#redis;
    if (redis.status === 'ready') return redis;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, CONNECT_WAIT_MS);
      redis.once('ready', done);
    });
    return redis;
  }

  #sessionKey = (id: string) => `${this.#prefix}session:${hashed(id)}`;
  #loginKey = (id: string) => `${this.#prefix}login:${hashed(id)}`;
  #cliCodeKey = (code: string) => `${this.#prefix}cli-code:${hashed(code)}`;
  #idleOf = (session: SessionData) => session.idleLifetimeMs ?? this.#idleMs;

  /**
   * A new session (a new id: logins never reuse one, against fixation); returns its id.
   * `lifetimeMs` replaces the store's lifetimes (a CLI session: idle and absolute alike).
   */
  async create(
    data: NewSession,
    lifetimeMs?: number,
  ): Promise<{ id: string; session: SessionData }> {
    const now = this.#now();
    const session: SessionData = {
      ...data,
      ...(lifetimeMs !== undefined && { idleLifetimeMs: lifetimeMs }),
      csrfToken: randomId(),
      createdAt: now,
      absoluteDeadline: now + (lifetimeMs ?? this.#absoluteMs),
    };
    const id = randomId();
    await (
      await this.#connected()
    ).set(
      this.#sessionKey(id),
      JSON.stringify(session),
      'PX',
      Math.min(this.#idleOf(session), session.absoluteDeadline - now),
      'NX',
    );
    return { id, session };
  }

  /** The live session of `id`, its idle timer renewed; undefined when over or unknown. */
  async get(id: string): Promise<SessionData | undefined> {
    const key = this.#sessionKey(id);
    const raw = await (await this.#connected()).get(key);
    if (raw === null) return undefined;
    const session = JSON.parse(raw) as SessionData;
    const left = session.absoluteDeadline - this.#now();
    if (left <= 0) {
      await (await this.#connected()).del(key);
      return undefined;
    }
    await (await this.#connected()).pexpire(key, Math.min(this.#idleOf(session), left));
    return session;
  }

  /** Replaces what a live session holds (after a token refresh), keeping its deadlines. */
  async update(id: string, session: SessionData): Promise<void> {
    const left = session.absoluteDeadline - this.#now();
    if (left <= 0) return this.destroy(id);
    await (
      await this.#connected()
    ).set(
      this.#sessionKey(id),
      JSON.stringify(session),
      'PX',
      Math.min(this.#idleOf(session), left),
      'XX',
    );
  }

  async destroy(id: string): Promise<void> {
    await (await this.#connected()).del(this.#sessionKey(id));
  }

  /** Records a login under way; returns the id its pre-login cookie carries. */
  async startLogin(pending: PendingLogin): Promise<string> {
    const id = randomId();
    await (
      await this.#connected()
    ).set(this.#loginKey(id), JSON.stringify(pending), 'PX', PENDING_LOGIN_TTL_MS);
    return id;
  }

  /** The login under way of `id`, removed as it is read: a callback is answered once. */
  async takeLogin(id: string): Promise<PendingLogin | undefined> {
    const raw = await (await this.#connected()).getdel(this.#loginKey(id));
    return raw === null ? undefined : (JSON.parse(raw) as PendingLogin);
  }

  /** Records a finished CLI login under a new one-time code; returns the code. */
  async issueCliCode(code: CliCode): Promise<string> {
    const value = randomId();
    await (
      await this.#connected()
    ).set(this.#cliCodeKey(value), JSON.stringify(code), 'PX', this.#cliCodeTtlMs);
    return value;
  }

  /** The CLI login of `code`, removed as it is read: a code is exchanged once, or never. */
  async takeCliCode(code: string): Promise<CliCode | undefined> {
    const raw = await (await this.#connected()).getdel(this.#cliCodeKey(code));
    return raw === null ? undefined : (JSON.parse(raw) as CliCode);
  }
}
