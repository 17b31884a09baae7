import { randomUuid } from '../../src/util/ids';

/** What the detection state file accepts for a saved violation id (src/detect/detector.ts). */
const RESTORABLE_VIOLATION_ID = /^[a-zA-Z0-9-]{1,128}$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('randomUuid', () => {
  it('writes the version 4 text form, which the detection state file restores', () => {
    for (let i = 0; i < 1_000; i++) {
      const id = randomUuid();
      expect(id).toMatch(UUID_V4);
      expect(id).toMatch(RESTORABLE_VIOLATION_ID);
    }
  });

  it('gives distinct ids', () => {
    const ids = new Set(Array.from({ length: 20_000 }, () => randomUuid()));
    expect(ids.size).toBe(20_000);
  });

  it('spans every digit at both ends of the random range, keeping the version and variant digits', () => {
    expect(randomUuid(() => 0)).toBe('00000000-0000-4000-8000-000000000000');
    expect(randomUuid(() => 0.999_999_999)).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
  });
});
