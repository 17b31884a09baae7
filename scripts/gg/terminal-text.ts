/**
 * Text that comes from outside the tool (device log lines, what AWS answers, flags as typed) made safe to show on a
 * terminal. A device, or anything that writes to its log, must not be able to drive the operator's terminal: set the
 * clipboard (OSC 52), hide a link (OSC 8), clear the screen or forge a line. Every control character is replaced by
 * its visible escape (ESC becomes `\x1b`), so an escape sequence prints as inert text that still shows the attempt.
 */
import { quoteValue } from '../../src/config/quote';
import type { OutputSink } from './deps';

/**
 * C0 except tab, DEL, C1 (0x9b and 0x9d open sequences on their own on some terminals), the Unicode line separators
 * and the bidirectional overrides that reorder what the eye reads.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is neutralized here
const CONTROL_IN_LINE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the same set, line feeds kept for the tool's own multi-line text
const CONTROL_BUT_LINE_FEED = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visible(character: string): string {
  const code = character.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One remote value on one line: line breaks included, every control character shows as its escape. */
export function neutralized(text: string): string {
  return text.replace(CONTROL_IN_LINE, visible);
}

/** Text the tool composed itself, which may span lines (a dry run's JSON, a recipe): only the line feeds stay. */
function neutralizedKeepingLines(text: string): string {
  return text.replace(CONTROL_BUT_LINE_FEED, visible);
}

/** The sink every subcommand prints through: whatever reaches it, the terminal receives no control sequence. */
export function terminalSafe(sink: OutputSink): OutputSink {
  return {
    info: (line) => sink.info(neutralizedKeepingLines(line)),
    error: (line) => sink.error(neutralizedKeepingLines(line)),
  };
}

/** A value as typed by the operator, for an error message: quoted, escaped and cut as the agent quotes configuration. */
export function quotedInput(value: string): string {
  return neutralized(quoteValue(value));
}
