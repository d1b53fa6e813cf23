// The framing of git's wire protocol: each pkt-line is four hex digits of length (their own included) and
// the data; `0000` flushes, `0001` and `0002` are protocol v2's delimiter and response end. An answer of
// smart HTTP is whole pkt-lines that end with a flush (or nothing at all). isomorphic-git reads a frame it cannot parse as the
// end of the answer (a remote without the refs that follow); git stops with "protocol error", and so does
// gitwatch, before anything reads the refs.

import { escapeControls } from '../rules/safe-text.js';

/** git's LARGE_PACKET_MAX: no pkt-line is longer. */
const MAX_PKT_LINE = 65520;

/** What is wrong with the framing of a whole answer, in git's words where git has them; undefined when nothing is. */
export function pktLineProblem(data: Buffer): string | undefined {
  let at = 0;
  let flushed = false;
  while (at < data.length) {
    if (at + 4 > data.length) return `protocol error: bad line length character: ${shown(data.subarray(at))}`;
    const head = data.subarray(at, at + 4).toString('latin1');
    if (!/^[0-9a-fA-F]{4}$/.test(head)) return `protocol error: bad line length character: ${shown(data.subarray(at, at + 4))}`;
    const length = Number.parseInt(head, 16);
    if (length === 3 || length > MAX_PKT_LINE) return `protocol error: bad line length ${length}`;
    const end = length < 4 ? at + 4 : at + length;
    if (end > data.length) return 'protocol error: the answer ends inside a pkt-line';
    // A flush, or v2's response end, closes an answer.
    flushed = length === 0 || length === 2;
    at = end;
  }
  // An empty answer is no frame at all: git http-backend answers ls-refs of an empty repository so.
  return flushed || data.length === 0 ? undefined : 'protocol error: the answer does not end with a flush-pkt';
}

function shown(bytes: Buffer): string {
  return escapeControls(bytes.toString('latin1'));
}
