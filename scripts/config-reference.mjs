// Generates docs/config-reference.md from schema/gitwatch.schema.json (`npm run gen:docs`): every key with its
// type, default, examples, description and rules, so the reference and the schema cannot disagree.
// test/docs.test.ts fails when the committed file and the schema drift apart.

import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
export const SCHEMA = `${root}schema/gitwatch.schema.json`;
export const OUTPUT = `${root}docs/config-reference.md`;

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens (github-slugger's rules). */
export function githubSlug(heading) {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/**
 * The keys in the order the page lists them: one section per kind of object, each key with the JSON
 * pointer of its schema node. A node's `$ref` is followed for its description, examples and rules.
 */
export function sections(schema) {
  const P = '#/properties';
  const R = '#/$defs/repo/properties';
  const S = '#/$defs/step/anyOf/1/properties';
  const keysOf = (pointer) => Object.keys(at(schema, pointer));
  return [
    {
      title: 'Top level',
      intro: 'The keys of the file itself. `version` and `repos` are required.',
      keys: keysOf(P).map((k) => ({ name: k, pointer: `${P}/${k}` })),
    },
    {
      title: '`concurrency`',
      intro: 'The object form of `concurrency`. A plain number is the same as `concurrency: { checks: N }`.',
      keys: keysOf(`${P}/concurrency/anyOf/1/properties`).map((k) => ({ name: `concurrency.${k}`, pointer: `${P}/concurrency/anyOf/1/properties/${k}` })),
    },
    {
      title: '`defaults`',
      intro:
        "Every key here means what the repo key of the same name means, and applies to every repo that does not set it. A repo's `env` is added to `defaults.env`; a repo's `notify` list replaces the defaults' one.",
      keys: keysOf(`${P}/defaults/properties`).map((k) => ({ name: `defaults.${k}`, pointer: `${P}/defaults/properties/${k}`, sameAs: `repos.<name>.${k}` })),
    },
    {
      title: 'A repo: `repos.<name>`',
      intro: at(schema, '#/$defs/repo').description + ' ' + at(schema, `${P}/repos/propertyNames`).description,
      keys: keysOf(R).map((k) => ({ name: `repos.<name>.${k}`, pointer: `${R}/${k}` })),
    },
    {
      title: 'A step: `pipeline[]`, `jobs.<job>.steps[]`',
      intro: at(schema, '#/$defs/step').description + ' A string is the same as `{ run: STRING }`.',
      keys: keysOf(S).map((k) => ({ name: `step.${k}`, pointer: `${S}/${k}` })),
    },
    {
      title: 'A job: `repos.<name>.jobs.<job>`',
      intro: at(schema, '#/$defs/job').description + ' ' + at(schema, `${R}/jobs/propertyNames`).description,
      keys: keysOf('#/$defs/job/properties').map((k) => ({ name: `job.${k}`, pointer: `#/$defs/job/properties/${k}` })),
    },
    {
      title: 'A notification target: `notify[]`',
      intro: at(schema, '#/$defs/notifyTarget').description,
      keys: [
        ...keysOf('#/$defs/notifyTarget/anyOf/0/properties').map((k) => ({ name: `notify[].${k}`, pointer: `#/$defs/notifyTarget/anyOf/0/properties/${k}` })),
        ...keysOf('#/$defs/notifyTarget/anyOf/1/properties')
          .filter((k) => k !== 'on')
          .map((k) => ({ name: `notify[].${k}`, pointer: `#/$defs/notifyTarget/anyOf/1/properties/${k}` })),
      ],
    },
    {
      title: '`retry`',
      intro: at(schema, '#/$defs/retry').description,
      keys: keysOf('#/$defs/retry/properties').map((k) => ({ name: `retry.${k}`, pointer: `#/$defs/retry/properties/${k}` })),
    },
    {
      title: '`verify`',
      intro: `${at(schema, '#/$defs/verify').description} See [Signed commits](signed-commits.md).`,
      keys: keysOf('#/$defs/verify/properties').map((k) => ({ name: `verify.${k}`, pointer: `#/$defs/verify/properties/${k}` })),
    },
  ];
}

export function at(schema, pointer) {
  let node = schema;
  for (const part of pointer
    .replace(/^#\/?/, '')
    .split('/')
    .filter((p) => p !== '')) {
    node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (node === undefined) throw new Error(`no schema node at ${pointer}`);
  }
  return node;
}

/** A node with its `$ref` chain merged in: the node's own fields win (a `$ref`'s description is the general one). */
function resolved(schema, node) {
  if (typeof node.$ref !== 'string') return node;
  const target = resolved(schema, at(schema, node.$ref));
  const merged = { ...target, ...node, allOf: [...(target.allOf ?? []), ...(node.allOf ?? [])] };
  merged.$refs = [node.$ref, ...(target.$refs ?? [])];
  delete merged.$ref;
  return merged;
}

/** Kinds of object that have a section of their own: a type names them with a link there. */
const SECTION_OF = {
  '#/$defs/repo': ['repo', 'A repo: repos.<name>'],
  '#/$defs/step': ['step (a string or an object)', 'A step: pipeline[], jobs.<job>.steps[]'],
  '#/$defs/job': ['job', 'A job: repos.<name>.jobs.<job>'],
  '#/$defs/notifyTarget': ['notification target', 'A notification target: notify[]'],
  '#/$defs/retry': ['retry object', 'retry'],
  '#/$defs/verify': ['verify object', 'verify'],
};

function typeOf(schema, raw) {
  const section = SECTION_OF[raw.$ref];
  if (section) return `[${section[0]}](#${githubSlug(section[1])})`;
  const node = resolved(schema, raw);
  if (node.$refs?.includes('#/$defs/duration')) return 'duration';
  if ('const' in node) return `\`${JSON.stringify(node.const)}\``;
  if (Array.isArray(node.enum)) return `one of ${node.enum.map((v) => `\`${v}\``).join(', ')}`;
  if (Array.isArray(node.anyOf)) return node.anyOf.map((branch) => typeOf(schema, branch)).join(' or ');
  const types = Array.isArray(node.type) ? node.type : [node.type];
  return types
    .map((type) => {
      if (type === 'array') return `list of ${typeOf(schema, node.items ?? {})}`;
      if (type === 'object') {
        if (node.title === 'RawEnv') return 'map of variable name to string, number or boolean';
        if (node.additionalProperties && typeof node.additionalProperties === 'object') return `map of name to ${typeOf(schema, node.additionalProperties)}`;
        return 'object';
      }
      return type ?? 'any';
    })
    .join(' or ');
}

/** A description's rules: `{ description, not }` items in `allOf`, followed through `$ref`s (durations, ref names). */
function rulesOf(schema, raw) {
  const out = [];
  const visit = (node, top) => {
    if (typeof node.$ref === 'string') visit(at(schema, node.$ref), false);
    if (!top && 'not' in node && typeof node.description === 'string') out.push(node.description);
    for (const item of node.allOf ?? []) visit(item, false);
  };
  visit(raw, true);
  return [...new Set(out)];
}

function defaultOf(node, required) {
  if ('default' in node) return `\`${inline(node.default)}\``;
  if (required) return 'required';
  const said = /Default: (.+?)(?:\.(?:\s|$)|$)/.exec(node.description ?? '');
  return said ? md(said[1] ?? 'none') : 'none';
}

/** Plain text for Markdown: code spans stay as they are; elsewhere `<`, `>`, `*` and `\\` are shown, not read. */
function md(text) {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith('`') ? part : part.replace(/\\/g, '\\\\').replace(/\*/g, '\\*').replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('');
}

function inline(value) {
  return YAML.stringify(value, { collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0 }).trim();
}

function exampleOf(name, value) {
  const key = name.split('.').at(-1)?.replace(/\[\]$/, '') ?? name;
  return `\`${key}: ${inline(value)}\``;
}

export async function generate() {
  const schema = JSON.parse(await readFile(SCHEMA, 'utf8'));
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from schema/gitwatch.schema.json by `npm run gen:docs`. Do not edit by hand: edit the schema and run it again. -->',
    '',
    'Every key of `gitwatch.yaml`, from the JSON Schema that `gitwatch validate`, `gitwatch schema` and your',
    'editor use. For a guided tour, read [Configuration](configuration.md) first. Durations are `500ms`, `30s`,',
    "`5m`, `1h`, `1h30m` or a number of seconds. Relative paths are relative to the config file's folder.",
    '',
  ];
  const all = sections(schema);
  lines.push('## Contents', '');
  for (const section of all) lines.push(`- [${section.title}](#${githubSlug(section.title.replace(/`/g, ''))})`);
  lines.push('');
  const requiredAt = (pointer) => {
    const parent = at(schema, pointer.replace(/\/properties\/[^/]+$/, ''));
    const resolvedParent = resolved(schema, parent);
    return (resolvedParent.required ?? []).includes(pointer.split('/').at(-1));
  };
  for (const section of all) {
    lines.push(`## ${section.title}`, '', md(section.intro), '');
    for (const key of section.keys) {
      const raw = at(schema, key.pointer);
      const node = resolved(schema, raw);
      lines.push(`### \`${key.name}\``, '');
      if (key.sameAs) {
        lines.push(`Same as [\`${key.sameAs}\`](#${githubSlug(key.sameAs)}), for every repo that does not set it.`, '');
        continue;
      }
      lines.push(md(node.description ?? ''), '');
      lines.push(`- Type: ${typeOf(schema, raw)}`);
      lines.push(`- Default: ${defaultOf(node, requiredAt(key.pointer))}`);
      const examples = node.examples ?? [];
      if (examples.length > 0) lines.push(`- Example${examples.length > 1 ? 's' : ''}: ${examples.map((e) => exampleOf(key.name, e)).join(', ')}`);
      const rules = rulesOf(schema, raw);
      if (rules.length > 0) lines.push('- Refused:', ...rules.map((r) => `  - ${md(r)}`));
      lines.push('');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(OUTPUT, await generate());
  console.log(`wrote ${OUTPUT}`);
}
