/**
 * Orders strings by their UTF-16 code units, as `<` does. Unlike localeCompare this gives the same order under any
 * locale (reports are reproducible) and does not bring up ICU's collator, which costs 1 to 3 MiB of resident memory.
 */
export function compareOrdinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
