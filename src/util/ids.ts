/**
 * Identifiers that need to be unique, not secret. Built from Math.random so that the agent does not load node:crypto
 * for them (about 2 MiB of resident memory, on a device where the whole agent aims at 45 MiB). V8 seeds Math.random
 * per process from the operating system's entropy (a 64-bit seed) and its xorshift128+ generator does not repeat
 * within a process, so two ids of one device collide with odds far below any other failure. They are predictable,
 * which costs nothing: a violation id only names the alarm it is printed in.
 */
const HEX_DIGITS = '0123456789abcdef';

/** A random UUID, version 4 (RFC 9562 section 5.4) in its lowercase text form, e.g. `0f8e...-4...-a...-...`. */
export function randomUuid(random: () => number = Math.random): string {
  let text = '';
  for (let position = 0; position < 36; position++) {
    if (position === 8 || position === 13 || position === 18 || position === 23) text += '-';
    else if (position === 14) text += '4';
    // The variant: the two high bits 10, so 8, 9, a or b.
    else if (position === 19) text += HEX_DIGITS[8 + Math.floor(random() * 4)];
    else text += HEX_DIGITS[Math.floor(random() * 16)];
  }
  return text;
}
