import { readdirSync, readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { configNotAFile, configNotFound, configParse, type ErrorIssue } from '../errors.js';

export type PathSegment = string | number;

/** A parsed YAML (or JSON) file that can say where a config path came from. */
export interface SourceFile {
  file: string;
  doc: Document;
  lineCounter: LineCounter;
}

export interface Position {
  line: number;
  col: number;
}

/** Reads and parses a YAML file; syntax errors come back with line and column. */
export function readYamlFile(file: string, displayName = file): { value: unknown; source: SourceFile } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw configNotFound(displayName);
    if (code === 'EISDIR') {
      let specs: string[] = [];
      try {
        specs = readdirSync(file).filter((f) => /\.ya?ml$/.test(f)).slice(0, 5);
      } catch {
        // unreadable directory: no suggestions
      }
      const shown = displayName === '.' ? '' : `${displayName.replace(/\/$/, '')}/`;
      throw configNotAFile(
        displayName,
        'is a directory, not a YAML file',
        specs.length > 0 ? `Name the spec file, e.g. \`runner start ${shown}${specs[0]}\` (found: ${specs.join(', ')}).` : 'Name a YAML job spec file, e.g. `runner start configs/quickstart.yaml`.',
      );
    }
    if (code === 'EACCES' || code === 'EPERM') throw configNotAFile(displayName, 'cannot be read (permission denied)', 'Check the file permissions, or copy the spec somewhere readable.');
    throw err;
  }
  return parseYamlText(text, displayName);
}

export function parseYamlText(text: string, displayName: string): { value: unknown; source: SourceFile } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues: ErrorIssue[] = doc.errors.map((e) => {
      const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
      return {
        file: displayName,
        line: pos?.line,
        col: pos?.col,
        message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
        hint: yamlHint(e.code),
      };
    });
    throw configParse(displayName, issues);
  }
  return { value: doc.toJS({ maxAliasCount: 1000 }) ?? {}, source: { file: displayName, doc, lineCounter } };
}

function yamlHint(code: string): string {
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'Each key may appear once per mapping; remove or rename the duplicate.';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
      return 'Check the indentation: nested keys need more spaces than their parent, and tabs are not allowed.';
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return 'A key is missing its colon, or a value spans lines without quotes.';
    default:
      return 'Fix the YAML syntax here; quote strings that contain ": " or start with special characters.';
  }
}

/**
 * Where `path` is in the file: the value's position, and the key's when the last segment is a
 * mapping key. Falls back to the nearest ancestor that exists (`exact: false`).
 */
export function locate(source: SourceFile, path: readonly PathSegment[]): { value?: Position; key?: Position; exact: boolean } | undefined {
  let node: unknown = source.doc.contents;
  let keyNode: Node | undefined;
  let lastGood: Node | undefined = node as Node | undefined;
  let exact = true;
  for (const seg of path) {
    keyNode = undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) {
        exact = false;
        break;
      }
      keyNode = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      if (seg >= node.items.length) {
        exact = false;
        break;
      }
      node = node.items[seg];
    } else {
      exact = false;
      break;
    }
    if (node) lastGood = node as Node;
  }
  const pos = (n: Node | undefined): Position | undefined => {
    const r = n?.range;
    if (!r) return undefined;
    const p = source.lineCounter.linePos(r[0]);
    return { line: p.line, col: p.col };
  };
  if (!lastGood && !keyNode) return undefined;
  return { value: pos(exact ? (node as Node) ?? lastGood : lastGood), key: exact ? pos(keyNode) : undefined, exact };
}

/** `['stages', 0, 'options', 'steps']` → `stages[0].options.steps` */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out || '(root)';
}

/** JSON pointer (`/stages/0/options`) → segments, with array indices as numbers. */
export function pointerToPath(pointer: string, data: unknown): PathSegment[] {
  if (!pointer) return [];
  const out: PathSegment[] = [];
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur) && /^\d+$/.test(seg)) {
      out.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      out.push(seg);
      cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}
