// Text from outside gitwatch (step output, git's stderr, a config file) made safe to print where no
// terminal interprets it on purpose: CI logs, the journal, a terminal showing `validate`'s excerpt.

/**
 * Control characters and non-text: C0 (tab aside), DEL, C1, line separators, U+FFFD for bytes that were not
 * UTF-8, and the bidirectional controls (marks, embeddings, overrides, isolates) that make a terminal show
 * text in another order than it is (a branch `invoice<U+202E>txt.exe` reading as `invoiceexe.txt`).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufffd]/g;

/**
 * Terminal control sequences: CSI (colours, cursor moves, clear screen), OSC (window title, hyperlinks,
 * clipboard), DCS/SOS/PM/APC strings, and the short two-byte escapes. 8-bit C1 forms too.
 */
const SEQUENCES =
  // eslint-disable-next-line no-control-regex
  /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|(?:\u001b[\]PX^_]|[\u009d\u0090\u0098\u009e\u009f])[\s\S]*?(?:\u0007|\u001b\\|\u009c|$)|\u001b[ -/]*[0-~]/g;

function escapeChar(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Every unsafe character written as `\xNN` or `\uNNNN`, so it shows without acting. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/**
 * One line of output for a log: terminal sequences removed, a carriage return resolved as a terminal
 * would (what follows the last one, as progress bars mean it), anything else unsafe escaped.
 */
export function plainLine(text: string): string {
  const stripped = text.replace(SEQUENCES, '');
  const cr = stripped.replace(/\r+$/, '').lastIndexOf('\r');
  return escapeControls(cr === -1 ? stripped.replace(/\r+$/, '') : stripped.slice(cr + 1).replace(/\r+$/, ''));
}

/** JSON.stringify leaves C1 controls, line separators and bidi controls raw; a terminal showing the JSON may act on them. */
export function jsonSafe(json: string): string {
  return json.replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/g,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}
