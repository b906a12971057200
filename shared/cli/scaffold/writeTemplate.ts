/**
 * Writes a template folder into a new project folder. Files end in `.tmpl` (so no tool in the
 * kit's own repository compiles, lints or packs them as code); `{{key}}` in a file's text or path
 * is replaced by its value; `gitignore.tmpl` becomes `.gitignore` and `dockerignore.tmpl`
 * `.dockerignore` (npm pack leaves out a `.gitignore`, and a dotfile is easy to lose). The project
 * is written into a temporary sibling folder and renamed into place, so a failure half-way leaves
 * nothing behind.
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors';

const PLACEHOLDER = /\{\{(\w+)\}\}/g;
const DOTFILES = new Set(['gitignore', 'dockerignore']);

function fill(text: string, values: Record<string, string>, source: string): string {
  return text.replace(PLACEHOLDER, (_, key: string) => {
    if (!(key in values)) throw new Error(`template ${source} uses {{${key}}}, which has no value`);
    return values[key];
  });
}

function outputPath(relative: string, values: Record<string, string>): string {
  const filled = fill(relative.replace(/\.tmpl$/, ''), values, relative);
  return DOTFILES.has(path.basename(filled)) ? path.join(path.dirname(filled), `.${path.basename(filled)}`) : filled;
}

/** Whether `dir` can take a new project: absent, or an empty folder. */
async function checkTarget(dir: string): Promise<'absent' | 'empty'> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'absent';
    if (code === 'ENOTDIR') throw new UsageError(`${dir} exists and is not a folder`);
    throw error;
  }
  if (entries.length > 0) throw new UsageError(`${dir} is not empty; choose a new folder with --dir`);
  return 'empty';
}

/** The files written, relative to `target`, sorted. */
export async function writeTemplate(templateDir: string, target: string, values: Record<string, string>): Promise<string[]> {
  const state = await checkTarget(target);
  const sources = (await readdir(templateDir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(templateDir, path.join(entry.parentPath, entry.name)));
  await mkdir(path.dirname(target), { recursive: true });
  const staging = await mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}-`));
  try {
    const written: string[] = [];
    for (const source of sources) {
      const relative = outputPath(source, values);
      await mkdir(path.join(staging, path.dirname(relative)), { recursive: true });
      await writeFile(path.join(staging, relative), fill(await readFile(path.join(templateDir, source), 'utf8'), values, source));
      written.push(relative);
    }
    if (state === 'empty') await rmdir(target);
    await rename(staging, target);
    return written.sort();
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
