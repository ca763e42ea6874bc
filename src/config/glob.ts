/** Expands include patterns: '*', '?', '[...]' within a path component and csh-style '{a,b}'. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function hasGlob(pattern: string): boolean {
  return /[*?[{]/.test(pattern);
}

/** "{a,b}c" -> ["ac", "bc"], nested braces included. */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let start = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && depth > 0) {
      if (--depth === 0) {
        const inner = pattern.slice(start + 1, i);
        const parts: string[] = [];
        let d = 0;
        let from = 0;
        for (let j = 0; j < inner.length; j++) {
          if (inner[j] === '{') d++;
          else if (inner[j] === '}') d--;
          else if (inner[j] === ',' && d === 0) {
            parts.push(inner.slice(from, j));
            from = j + 1;
          }
        }
        parts.push(inner.slice(from));
        const head = pattern.slice(0, start);
        const tail = pattern.slice(i + 1);
        return parts.flatMap((p) => expandBraces(head + p + tail));
      }
    }
  }
  return [pattern];
}

function segmentRegExp(seg: string): RegExp {
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let cls = seg.slice(i + 1, end);
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += '[' + cls.replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

/** Absolute paths of the existing files matching pattern (relative to baseDir), sorted. */
export function glob(pattern: string, baseDir: string): string[] {
  const out = new Set<string>();
  for (const p of expandBraces(pattern)) {
    const abs = path.resolve(baseDir, p);
    if (!hasGlob(p)) {
      if (isFile(abs)) out.add(abs);
      continue;
    }
    const parts = abs.split('/').filter((s) => s !== '');
    let dirs = ['/'];
    for (let i = 0; i < parts.length; i++) {
      const seg = parts[i];
      const last = i === parts.length - 1;
      const next: string[] = [];
      for (const d of dirs) {
        if (!/[*?[]/.test(seg)) {
          next.push(path.join(d, seg));
          continue;
        }
        const re = segmentRegExp(seg);
        let names: string[];
        try {
          names = fs.readdirSync(d);
        } catch {
          continue;
        }
        for (const n of names.sort())
          if (re.test(n) && (!n.startsWith('.') || seg.startsWith('.'))) next.push(path.join(d, n));
      }
      dirs = last ? next : next.filter(isDir);
    }
    for (const f of dirs) if (isFile(f)) out.add(f);
  }
  return [...out].sort();
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
