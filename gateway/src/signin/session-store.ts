// Sessions and pending logins in Redis, so every gateway replica knows every session.
//
//   <ROUTING_PREFIX>session:<sha256(id)>  a signed-in person (JSON SessionData); TTL = the idle
//                                         lifetime, renewed on use, never past the absolute
//                                         deadline stored inside
//   <ROUTING_PREFIX>login:<sha256(id)>    a login under way (state, nonce, PKCE verifier);
//                                         10 minutes, taken with GETDEL so it serves once
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
}

export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Where the browser goes after the login (a path on this gateway). */
  returnTo: string;
}

export const PENDING_LOGIN_TTL_MS = 10 * 60_000;
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
  now?: () => number;
}

export class SessionStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #idleMs: number;
  readonly #absoluteMs: number;
  readonly #now: () => number;

  constructor(options: SessionStoreOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix;
    this.#idleMs = options.idleLifetimeMs;
    this.#absoluteMs = options.absoluteLifetimeMs;
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

  /** A new session (a new id: logins never reuse one, against fixation); returns its id. */
  async create(
    data: Omit<SessionData, 'csrfToken' | 'createdAt' | 'absoluteDeadline'>,
  ): Promise<{ id: string; session: SessionData }> {
    const now = this.#now();
    const session: SessionData = {
      ...data,
      csrfToken: randomId(),
      createdAt: now,
      absoluteDeadline: now + this.#absoluteMs,
    };
    const id = randomId();
    await (
      await this.#connected()
    ).set(
      this.#sessionKey(id),
      JSON.stringify(session),
      'PX',
      Math.min(this.#idleMs, this.#absoluteMs),
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
    await (await this.#connected()).pexpire(key, Math.min(this.#idleMs, left));
    return session;
  }

  /** Replaces what a live session holds (after a token refresh), keeping its deadlines. */
  async update(id: string, session: SessionData): Promise<void> {
    const left = session.absoluteDeadline - this.#now();
    if (left <= 0) return this.destroy(id);
    await (
      await this.#connected()
    ).set(this.#sessionKey(id), JSON.stringify(session), 'PX', Math.min(this.#idleMs, left), 'XX');
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
}
