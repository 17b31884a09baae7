import { InvalidValue } from '../../src/config/values';

/** The InvalidValue message a parser throws for `value` (fails the test when it returns or throws something else). */
export function refusal(parse: (value: unknown) => unknown, value: unknown): string {
  try {
    parse(value);
  } catch (error) {
    if (error instanceof InvalidValue) return error.message;
    throw error;
  }
  throw new Error(`expected a refusal of ${String(value)}`);
}
