/** The bench's closing verdict: the line it prints and the exit code, non-zero when any target was missed. */
export function targetsVerdict(misses: readonly string[]): { text: string; exitCode: number } {
  return misses.length === 0
    ? { text: '\nall targets met', exitCode: 0 }
    : { text: `\ntargets missed:\n  ${misses.join('\n  ')}`, exitCode: 1 };
}
