// Counts the calls the test server receives, per `METHOD /path` (no query string), so tests
// and benchmarks can say "a no-change resync makes 0 writes". The /__test/* control routes are
// not counted. A call a fault answered still counts: it reached "LiteLLM".

export interface CallSnapshot {
  /** `POST /team/new` → count. */
  calls: Record<string, number>;
  total: number;
  /** Calls that may change state: POST/PUT/PATCH/DELETE to management routes (not inference). */
  writes: number;
}

const inferencePath = /^(\/v1)?\/(chat\/completions|completions|embeddings)$/;

/** One management write, in arrival order, with its parsed body: which object it touched. */
export interface RecordedWrite {
  call: string;
  body: unknown;
}

function isWrite(method: string, path: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && !inferencePath.test(path);
}

export class Calls {
  #counts = new Map<string, number>();
  #writes: RecordedWrite[] = [];

  record(method: string, url: string): void {
    const path = url.split('?')[0]!;
    if (path.startsWith('/__test/')) return;
    const key = `${method.toUpperCase()} ${path}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /**
   * Keeps a write's body (called once the body is parsed), so a test running beside others
   * on one server can tell the writes about its own objects from theirs.
   */
  recordWrite(method: string, url: string, body: unknown): void {
    const path = url.split('?')[0]!;
    if (path.startsWith('/__test/') || !isWrite(method.toUpperCase(), path)) return;
    this.#writes.push({ call: `${method.toUpperCase()} ${path}`, body });
  }

  /** A mark for `writesSince`. */
  writeMark(): number {
    return this.#writes.length;
  }

  writesSince(mark: number): readonly RecordedWrite[] {
    return this.#writes.slice(mark);
  }

  count(method: string, path: string): number {
    return this.#counts.get(`${method.toUpperCase()} ${path}`) ?? 0;
  }

  snapshot(): CallSnapshot {
    const calls = Object.fromEntries([...this.#counts].sort(([a], [b]) => a.localeCompare(b)));
    let total = 0;
    let writes = 0;
    for (const [key, n] of this.#counts) {
      total += n;
      const [method, path] = key.split(' ') as [string, string];
      if (isWrite(method, path)) writes += n;
    }
    return { calls, total, writes };
  }

  reset(): void {
    this.#counts.clear();
    this.#writes = [];
  }
}
