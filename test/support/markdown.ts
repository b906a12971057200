/**
 * Reads the repository's documentation as the docs tests need it: which files are docs, their
 * fenced code blocks, the anchors their headings make and the links they hold. Deliberately small:
 * the docs are ours and follow CommonMark's plain forms (``` fences, ATX headings, inline links).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** README.md and every Markdown file under docs/, as paths relative to the repository root. */
export function documentationFiles(root = REPO_ROOT): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const relative = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) return walk(relative);
      return entry.name.endsWith('.md') ? [relative] : [];
    });
  return ['README.md', ...walk('docs')].sort();
}

export interface FencedBlock {
  /** The info string's first word (`bash`, `json`, ...), or '' for a bare fence. */
  language: string;
  /** Line number (1-based) of the opening fence. */
  line: number;
  body: string;
}

/** Every fenced code block of a Markdown text, in order. */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  const lines = markdown.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const opening = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[index]);
    if (!opening) continue;
    const [, indent, fence, language] = opening;
    const body: string[] = [];
    let end = index + 1;
    while (end < lines.length && !lines[end].trimStart().startsWith(fence))
      body.push(lines[end++].slice(indent.length));
    blocks.push({ language, line: index + 1, body: body.join('\n') });
    index = end;
  }
  return blocks;
}

/** The text outside fenced code blocks (each block's lines blanked, so line numbers hold). */
export function prose(markdown: string): string {
  const lines = markdown.split('\n');
  for (const block of fencedBlocks(markdown)) {
    const count = block.body === '' ? 1 : block.body.split('\n').length + 1;
    for (let offset = 0; offset <= count; offset++)
      if (lines[block.line - 1 + offset] !== undefined) lines[block.line - 1 + offset] = '';
  }
  return lines.join('\n');
}

/** GitHub's anchor for a heading: inline markup and punctuation dropped, lower case, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

/** The anchors a Markdown text's headings make, numbered as GitHub numbers repeats (`x`, `x-1`, ...). */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = headingSlug(match[1]);
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  return anchors;
}

export interface MarkdownLink {
  target: string;
  line: number;
  image: boolean;
}

/** Inline links and images outside code: `[text](target)` and `![alt](target)`. */
export function markdownLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  prose(markdown)
    .split('\n')
    .forEach((text, index) => {
      const outsideCode = text.replace(/`[^`]*`/g, '');
      for (const match of outsideCode.matchAll(/(!?)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
        links.push({ target: match[2], line: index + 1, image: match[1] === '!' });
      }
    });
  return links;
}

export function readDoc(file: string, root = REPO_ROOT): string {
  return readFileSync(path.join(root, file), 'utf8');
}

const SHELL_LANGUAGES = new Set(['bash', 'sh', 'shell', 'console']);

export interface ShellCommand {
  /** The command as one line: continuation lines joined, a trailing comment dropped, spaces collapsed. */
  command: string;
  /** The fenced block it is in (its opening fence's line), so a test can tell blocks apart. */
  block: FencedBlock;
}

/** Splits a shell block into its commands: a command runs on over a trailing `\` or an open quote. */
export function commandsOfBlock(block: FencedBlock): string[] {
  const commands: string[] = [];
  let current = '';
  let quote: "'" | '"' | undefined;
  for (const line of block.body.split('\n')) {
    let text = '';
    for (let index = 0; index < line.length; index++) {
      const char = line[index];
      if (quote === undefined && char === '#' && (index === 0 || /\s/.test(line[index - 1]))) break;
      if (char === '\\' && quote !== "'" && index + 1 < line.length) {
        text += char + line[++index];
        continue;
      }
      if (quote === undefined && (char === "'" || char === '"')) quote = char;
      else if (char === quote) quote = undefined;
      text += char;
    }
    current += (current === '' ? '' : quote === undefined ? ' ' : '\n') + text.replace(/\\$/, '').trimEnd();
    if (quote === undefined && !/\\\s*$/.test(line)) {
      const command = current.replace(/[ \t]+/g, ' ').trim();
      if (command !== '') commands.push(command);
      current = '';
    }
  }
  if (current.trim() !== '') commands.push(current.replace(/[ \t]+/g, ' ').trim());
  return commands;
}

/** Every shell command shown in a Markdown text's fenced shell blocks (```bash, ```sh, ```shell, ```console). */
export function shellCommands(markdown: string): ShellCommand[] {
  return fencedBlocks(markdown)
    .filter((block) => SHELL_LANGUAGES.has(block.language))
    .flatMap((block) => commandsOfBlock(block).map((command) => ({ command, block })));
}

/** The first shell block after a phrase of the text: how a test finds the block it runs as written. */
export function shellBlockAfter(markdown: string, phrase: string): FencedBlock {
  const at = markdown.indexOf(phrase);
  if (at < 0) throw new Error(`no "${phrase}" in the document`);
  const line = markdown.slice(0, at).split('\n').length;
  const block = fencedBlocks(markdown).find(
    (candidate) => candidate.line > line && SHELL_LANGUAGES.has(candidate.language),
  );
  if (!block) throw new Error(`no shell block after "${phrase}"`);
  return block;
}

export interface InlineCommand {
  /** The code span's text, spaces (and a line break inside the span) collapsed. */
  command: string;
  /** Line number (1-based) where the span opens. */
  line: number;
}

/** Every code span of the prose (fenced blocks left out); a span may run over one line break. */
export function codeSpans(markdown: string): InlineCommand[] {
  const text = prose(markdown);
  const spans: InlineCommand[] = [];
  for (const match of text.matchAll(/(`+)((?:(?!\n\s*\n)[\s\S])+?)\1(?!`)/g)) {
    spans.push({
      command: match[2].replace(/\s+/g, ' ').trim(),
      line: text.slice(0, match.index).split('\n').length,
    });
  }
  return spans;
}

const COMMAND_START = /^(npm|npx|curl|docker|kubectl|bash) \S|^node (-|\S*[/.])/;
const SCRIPT_FOLDERS = /^(scripts|test\/stack)\//;

/**
 * Whether a code span is a command a reader would type: `npm …`, `npx …`, `node` with a flag or a
 * path, `curl`, `docker`, `kubectl`, `bash`, an executable under scripts/ or test/stack/, any of
 * these after environment assignments. An assignment alone (`NODE_ENV=production`) is
 * configuration, and a folder or a non-executable file under scripts/ is a mention of it.
 */
export function isInlineCommand(span: string, root = REPO_ROOT): boolean {
  const command = span.replace(/^([A-Z_][A-Z0-9_]*=\S*\s+)+/, '');
  if (command !== span && /^[A-Z_][A-Z0-9_]*=/.test(command)) return false;
  if (COMMAND_START.test(command)) return true;
  if (!SCRIPT_FOLDERS.test(command)) return false;
  try {
    const file = path.join(root, command.split(' ')[0]);
    return statSync(file).isFile() && (statSync(file).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The commands a Markdown text shows inline in its prose (see isInlineCommand). */
export function inlineCommands(markdown: string, root = REPO_ROOT): InlineCommand[] {
  return codeSpans(markdown).filter((span) => isInlineCommand(span.command, root));
}
