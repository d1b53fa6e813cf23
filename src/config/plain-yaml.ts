// The plain shape most configs are written in, read without the YAML library: nested block maps and
// lists of one-line scalars. A cold YAML parser costs far more than the rest of loading a large config
// (about 0.2 s of CPU for 500 repos, on every `once` and every `status`), and a hand-written reader of the
// plain shape costs a few milliseconds. Whatever is not plainly that shape (flow collections, anchors,
// tags, block scalars, multi-line or escaped scalars, numbers other than small integers, tabs, text outside
// ASCII, repeated keys) is declined, and the YAML library reads the file as before; so is every file with
// a problem, whose messages need the library's positions. A property test holds the two to the same data.

/** What the YAML library's core schema would make of the document, or undefined to let it decide. */
export function readPlainYaml(text: string): { value: unknown } | undefined {
  if (!/^[\x20-\x7e\n]*$/.test(text)) return undefined;
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    const content = raw.trimStart();
    if (content === '' || content.startsWith('#')) continue;
    lines.push({ indent: raw.length - content.length, content: content.trimEnd() });
  }
  // A document start marker alone on the first line; any other marker or directive is the library's.
  if (lines[0]?.content === '---' && lines[0].indent === 0) lines.shift();
  if (lines.some((l) => l.indent === 0 && /^(---|\.\.\.|%)/.test(l.content))) return undefined;
  const first = lines[0];
  if (first === undefined) return undefined;
  const reader = new Reader(lines);
  const value = reader.block(first.indent);
  return value === DECLINE || reader.at < lines.length ? undefined : { value };
}

interface Line {
  indent: number;
  content: string;
}

const DECLINE = Symbol('decline');
type Value = unknown;

/** A key the library reads as the same string: not a number, a boolean, null, or a name objects already have. */
const KEY = /^([A-Za-z_][A-Za-z0-9_./-]*):(?: +(.*))?$/;
const NOT_A_STRING_KEY = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE|[Nn]ull|NULL)$/;
/** The core schema's other numbers (yaml 2.9's tests): the library reads those. */
const NUMBERS = [
  /^0o[0-7]+$/,
  /^[-+]?[0-9]+$/,
  /^0x[0-9a-fA-F]+$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
];
/** Characters that start something other than a plain scalar in block context. */
const INDICATOR = /^[-?:,[\]{}#&*!|>'"%@`]/;

class Reader {
  at = 0;

  constructor(private readonly lines: Line[]) {}

  /** The map or list that starts on the current line, at `indent`. */
  block(indent: number): Value {
    const line = this.lines[this.at];
    if (line === undefined || line.indent !== indent) return DECLINE;
    if (line.content === '-' || line.content.startsWith('- ')) return this.list(indent);
    return KEY.test(line.content) ? this.map(indent) : DECLINE;
  }

  private map(indent: number): Value {
    const map: Record<string, unknown> = {};
    for (let line = this.lines[this.at]; line !== undefined && line.indent >= indent; line = this.lines[this.at]) {
      const m = line.indent === indent ? KEY.exec(line.content) : null;
      const key = m?.[1];
      if (m === null || key === undefined || NOT_A_STRING_KEY.test(key) || key in map || key in Object.prototype) return DECLINE;
      this.at++;
      const value = this.value(m[2] ?? '', indent, true);
      if (value === DECLINE) return DECLINE;
      map[key] = value;
    }
    return map;
  }

  private list(indent: number): Value {
    const list: unknown[] = [];
    for (let line = this.lines[this.at]; line !== undefined && line.indent >= indent; line = this.lines[this.at]) {
      if (line.indent !== indent) return DECLINE;
      // A key at the list's own indent ends a list that sits at its key's indent.
      if (!(line.content === '-' || line.content.startsWith('- '))) break;
      const rest = line.content.slice(1).trimStart();
      if (KEY.test(rest)) {
        // `- key: value`: a map whose keys line up with the first one.
        line.indent += line.content.length - rest.length;
        line.content = rest;
        const map = this.map(line.indent);
        if (map === DECLINE) return DECLINE;
        list.push(map);
        continue;
      }
      this.at++;
      const value = this.value(rest, indent, false);
      if (value === DECLINE) return DECLINE;
      list.push(value);
    }
    return list;
  }

  /** The value after a key or a dash on a line at `indent`: a scalar there, or a block below it. */
  private value(text: string, indent: number, inMap: boolean): Value {
    if (text === '' || text.startsWith('#')) {
      const next = this.lines[this.at];
      if (next !== undefined && next.indent > indent) return this.block(next.indent);
      // A list may sit at its key's own indent.
      if (inMap && next !== undefined && next.indent === indent && (next.content === '-' || next.content.startsWith('- '))) return this.list(indent);
      return null;
    }
    const value = scalar(text);
    // A deeper line after a scalar continues it, or is a mistake: the library says which.
    const next = this.lines[this.at];
    return next !== undefined && next.indent > indent ? DECLINE : value;
  }
}

/** One scalar on one line, with an optional comment after it. */
function scalar(text: string): Value {
  if (text.startsWith("'")) {
    let value = '';
    for (let i = 1; i < text.length; i++) {
      if (text[i] !== "'") value += text[i];
      else if (text[i + 1] === "'") value += text[++i];
      else return afterQuote(text.slice(i + 1), value);
    }
    return DECLINE;
  }
  if (text.startsWith('"')) {
    const end = text.indexOf('"', 1);
    const value = text.slice(1, end);
    return end < 0 || value.includes('\\') ? DECLINE : afterQuote(text.slice(end + 1), value);
  }
  if (INDICATOR.test(text)) return DECLINE;
  const comment = text.indexOf(' #');
  const plain = (comment < 0 ? text : text.slice(0, comment)).trimEnd();
  if (plain.includes(': ') || plain.endsWith(':')) return DECLINE;
  // The core schema's tags, in its order: null, booleans, then numbers; only small decimal integers are read here.
  if (/^(?:~|[Nn]ull|NULL)$/.test(plain)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(plain)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(plain)) return false;
  if (/^[0-9]{1,15}$/.test(plain)) return Number(plain);
  return NUMBERS.some((n) => n.test(plain)) ? DECLINE : plain;
}

function afterQuote(rest: string, value: string): Value {
  return rest === '' || /^ +#/.test(rest) ? value : DECLINE;
}
