/**
 * A set of listeners for one kind of event. A listener that throws is logged under `label` and does not
 * stop the others: one broken subscriber must not silence a link for everyone else.
 *
 * @deprecated Use Emitter (emitter.ts), the project's one event emitter. Only experts/link/expert-link.ts
 * still uses this, until the experts restructuring moves it over; then delete this file.
 */
export class Listeners<A extends unknown[]> {
  readonly #set = new Set<(...args: A) => void>();

  constructor(private readonly label = "listener") {}

  add(listener: (...args: A) => void): () => void {
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }

  emit(...args: A): void {
    for (const l of [...this.#set]) {
      try {
        l(...args);
      } catch (error) {
        console.error(`${this.label} failed`, error);
      }
    }
  }

  clear(): void {
    this.#set.clear();
  }
}
