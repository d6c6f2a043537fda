/**
 * A lookup table keyed by words a proposer chooses (a program, a subcommand, a variable, a header,
 * a host): an object without a prototype, so `toString`, `constructor` or `__proto__` find nothing.
 * A plain object literal answers them with Object.prototype's members (`CODE_FLAGS["toString"]` is
 * a function), which the code that reads the entry then trips on.
 */
export function wordTable<T>(entries: Record<string, NoInfer<T>>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}
