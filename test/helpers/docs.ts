// Reads the Markdown docs as a reader's tools would: fenced blocks, headings and their GitHub anchors, links.
// test/docs.test.ts uses these to keep the docs true to the CLI and to each other.

import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export interface Block {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The fence's info string, lower case: `yaml`, `sh`, or empty. */
  readonly info: string;
  readonly text: string;
}

export interface Link {
  readonly file: string;
  readonly line: number;
  readonly target: string;
}

/** The Markdown files whose blocks and links the docs test checks: the front pages and every page in docs/. */
export async function docFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of ['README.md', 'ARCHITECTURE.md', 'CONTRIBUTING.md']) {
    if (await exists(path.join(root, name))) out.push(path.join(root, name));
  }
  for (const name of (await readdir(path.join(root, 'docs'))).sort()) if (name.endsWith('.md')) out.push(path.join(root, 'docs', name));
  return out;
}

export async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Fenced code blocks (``` or ~~~, indented or not), with the line they start on. */
export function blocks(file: string, text: string): Block[] {
  const out: Block[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)/.exec(lines[i] ?? '');
    if (!open) continue;
    const indent = open[1]?.length ?? 0;
    const fence = open[2] ?? '```';
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j] ?? '';
      if (l.trim().startsWith(fence[0]!.repeat(fence.length)) && l.trim().replace(/[`~]/g, '') === '') break;
      body.push(l.slice(Math.min(indent, l.length - l.trimStart().length)));
    }
    out.push({ file, line: i + 1, info: (open[3] ?? '').toLowerCase(), text: body.join('\n') });
    i = j;
  }
  return out;
}

/** The text outside fenced blocks, line by line (a block's lines are blank), so line numbers still hold. */
function prose(text: string): string[] {
  const lines = text.split('\n');
  let fence: string | undefined;
  return lines.map((l) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(l);
    if (fence === undefined && m) {
      fence = m[1];
      return '';
    }
    if (fence !== undefined) {
      if (l.trim().startsWith(fence) && l.trim().replace(/[`~]/g, '') === '') fence = undefined;
      return '';
    }
    return l;
  });
}

/** GitHub's anchor of a heading: its text as shown (no code marks, links as their text), then github-slugger's rules. */
export function slug(heading: string): string {
  const shown = heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
  return shown
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a page has: its headings' slugs, a repeated one with -1, -2, … as GitHub numbers them. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1] ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Inline links and images outside code: `[text](target)`. */
export function links(file: string, text: string): Link[] {
  const out: Link[] = [];
  prose(text).forEach((line, i) => {
    const outsideCode = line.replace(/`[^`]*`/g, (m) => ' '.repeat(m.length));
    for (const m of outsideCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) out.push({ file, line: i + 1, target: m[1] ?? '' });
  });
  return out;
}

/**
 * What is wrong with one internal link: a missing file, or an anchor its page lacks. External links
 * (a scheme) are not fetched. `pending` names files that other work brings: missing, they are reported
 * apart so the caller can choose.
 */
export async function linkProblem(link: Link, pending: ReadonlySet<string>): Promise<{ problem: string; pending: boolean } | undefined> {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) return undefined;
  const [filePart = '', anchor] = link.target.split('#', 2) as [string, string | undefined];
  const target = filePart === '' ? link.file : path.resolve(path.dirname(link.file), decodeURIComponent(filePart));
  const where = `${link.file}:${link.line}: ${link.target}`;
  if (!(await exists(target))) {
    const isPending = pending.has(path.basename(target));
    return { problem: `${where}: no such file`, pending: isPending };
  }
  if (anchor === undefined || anchor === '') return undefined;
  if (!target.endsWith('.md')) return { problem: `${where}: an anchor into a file that is not Markdown`, pending: false };
  const names = anchors(await readFile(target, 'utf8'));
  return names.has(anchor.toLowerCase()) ? undefined : { problem: `${where}: no heading with the anchor #${anchor}`, pending: false };
}

/** The words after `gitwatch` in shell text: `gitwatch logs -f site` gives `logs`. Options and paths are not commands. */
export function commandsIn(shell: string): { word: string; line: number }[] {
  const out: { word: string; line: number }[] = [];
  shell.split('\n').forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '$1');
    for (const m of line.matchAll(/(?:^|[\s;&|(])gitwatch[ \t]+([a-z][a-z0-9-]*)(?=$|[\s;&|)])/g)) out.push({ word: m[1] ?? '', line: i });
  });
  return out;
}

/** The shell a block holds: every line of a `sh` block, the `$ ` lines of an untyped one (a captured session). */
export function shellOf(block: Block): string | undefined {
  if (['sh', 'bash', 'shell', 'console'].includes(block.info)) return block.text;
  if (block.info === '' || block.info === 'text') {
    return block.text
      .split('\n')
      .map((l) => (l.startsWith('$ ') ? l.slice(2) : ''))
      .join('\n');
  }
  return undefined;
}
