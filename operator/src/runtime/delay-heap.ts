// The items waiting for a later add (addAfter), ordered by when they become ready: a binary
// min-heap with a map from item to entry, so that adding an item that is already waiting
// can move it earlier in O(log n) ("the earliest ready time wins", as client-go's
// delaying queue does) and never holds two entries for one item.

interface Entry<T> {
  item: T;
  readyAt: number;
  index: number;
}

export class DelayHeap<T> {
  readonly #heap: Entry<T>[] = [];
  readonly #entries = new Map<T, Entry<T>>();

  get size(): number {
    return this.#heap.length;
  }

  has(item: T): boolean {
    return this.#entries.has(item);
  }

  /** Adds `item`, or moves it earlier if it is already waiting for a later time. */
  push(item: T, readyAt: number): void {
    const existing = this.#entries.get(item);
    if (existing) {
      if (readyAt < existing.readyAt) {
        existing.readyAt = readyAt;
        this.#up(existing.index);
      }
      return;
    }
    const entry: Entry<T> = { item, readyAt, index: this.#heap.length };
    this.#heap.push(entry);
    this.#entries.set(item, entry);
    this.#up(entry.index);
  }

  /** When the first item becomes ready, or undefined when nothing waits. */
  peekReadyAt(): number | undefined {
    return this.#heap[0]?.readyAt;
  }

  /** Removes and returns every item ready at `now`, earliest first. */
  popReady(now: number): T[] {
    const ready: T[] = [];
    while (this.#heap.length > 0 && this.#heap[0]!.readyAt <= now) {
      const top = this.#heap[0]!;
      const last = this.#heap.pop()!;
      if (last !== top) {
        this.#heap[0] = last;
        last.index = 0;
        this.#down(0);
      }
      this.#entries.delete(top.item);
      ready.push(top.item);
    }
    return ready;
  }

  clear(): void {
    this.#heap.length = 0;
    this.#entries.clear();
  }

  #swap(i: number, j: number): void {
    const a = this.#heap[i]!;
    const b = this.#heap[j]!;
    this.#heap[i] = b;
    this.#heap[j] = a;
    a.index = j;
    b.index = i;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#heap[parent]!.readyAt <= this.#heap[i]!.readyAt) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.#heap.length && this.#heap[left]!.readyAt < this.#heap[smallest]!.readyAt)
        smallest = left;
      if (right < this.#heap.length && this.#heap[right]!.readyAt < this.#heap[smallest]!.readyAt)
        smallest = right;
      if (smallest === i) return;
      this.#swap(i, smallest);
      i = smallest;
    }
  }
}
