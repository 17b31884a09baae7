/** The message of anything thrown. Not `instanceof Error`: errors from another realm (node:fs under jest's vm) fail it. */
export function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return String(error);
}
