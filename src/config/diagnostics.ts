/** Errors and warnings of a configuration, each with the file, line and column it points at. */

export type Severity = 'error' | 'warning';

export interface Position {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export interface Diagnostic extends Position {
  severity: Severity;
  message: string;
}

/** "file:line:column: error: message". */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
}

/** Thrown by the loaders, and only by them, when a configuration cannot be used; carries every error. */
export class ConfigError extends Error {
  readonly diagnostics: Diagnostic[];
  /** True when the main file itself could not be read (lbctl validate exits 2). */
  readonly unreadable: boolean;
  constructor(diagnostics: Diagnostic[], unreadable = false) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super(errors.map(formatDiagnostic).join('\n') || 'invalid configuration');
    this.name = 'ConfigError';
    this.diagnostics = diagnostics;
    this.unreadable = unreadable;
  }
}

/** Collects diagnostics in the order they are found; sorted by position when read. */
export class Diagnostics {
  private readonly list: Diagnostic[] = [];

  error(pos: Position, message: string): void {
    this.list.push({ severity: 'error', file: pos.file, line: pos.line, column: pos.column, message });
  }

  warning(pos: Position, message: string): void {
    this.list.push({ severity: 'warning', file: pos.file, line: pos.line, column: pos.column, message });
  }

  add(d: Diagnostic): void {
    this.list.push(d);
  }

  /** How many were reported so far (a mark for since()). */
  get count(): number {
    return this.list.length;
  }

  /** Those reported since a mark, in order. */
  since(mark: number): Diagnostic[] {
    return this.list.slice(mark);
  }

  get errorCount(): number {
    let n = 0;
    for (const d of this.list) if (d.severity === 'error') n++;
    return n;
  }

  /** Every diagnostic, by file (first seen first), line, column; duplicates removed. */
  sorted(): Diagnostic[] {
    const fileOrder = new Map<string, number>();
    for (const d of this.list) if (!fileOrder.has(d.file)) fileOrder.set(d.file, fileOrder.size);
    const seen = new Set<string>();
    const out: Diagnostic[] = [];
    for (const d of this.list) {
      const k = formatDiagnostic(d);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(d);
    }
    return out.sort(
      (a, b) =>
        (fileOrder.get(a.file) ?? 0) - (fileOrder.get(b.file) ?? 0) || a.line - b.line || a.column - b.column,
    );
  }
}
