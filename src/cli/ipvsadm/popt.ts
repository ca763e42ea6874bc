// A command-line tokenizer with the behaviour of libpopt as ipvsadm uses it: bundled short options
// (`-Lnc`), an option's argument glued (`-srr`, `-s=rr`), separate (`-s rr`) or after `=` (`--scheduler=rr`),
// optional arguments (`-p [timeout]`: the next word is taken unless it starts with '-'), `--` ending
// the options, and every word that is not an option collected as a leftover argument.

export type ArgKind = 'none' | 'required' | 'optional';

export interface OptionSpec {
  readonly long: string;
  /** Short option character, or '' for none. */
  readonly short: string;
  readonly arg: ArgKind;
  /** What the caller switches on (ipvsadm's "val"). */
  readonly tag: string;
}

export type PoptErrorKind = 'unknown option' | 'missing argument' | 'option does not take an argument';

/** One step of the walk: an option with its argument, the end, or a popt error. */
export type PoptStep =
  | { readonly kind: 'option'; readonly tag: string; readonly arg: string | null; readonly word: string }
  | { readonly kind: 'end' }
  | { readonly kind: 'error'; readonly error: PoptErrorKind; readonly badOption: string };

export class Popt {
  private next = 0;
  /** Rest of the current bundle of short options ('' when none). */
  private cluster = '';
  private clusterWord = '';
  private readonly leftovers: string[] = [];
  private restAreArgs = false;

  constructor(
    private readonly argv: readonly string[],
    private readonly table: readonly OptionSpec[],
  ) {}

  /** The next option, like poptGetNextOpt. */
  nextOpt(): PoptStep {
    while (true) {
      if (this.cluster !== '') return this.shortOpt();
      if (this.next >= this.argv.length) return { kind: 'end' };
      const word = this.argv[this.next++];
      if (this.restAreArgs || word === '-' || !word.startsWith('-') || word.length < 2) {
        this.leftovers.push(word);
        continue;
      }
      if (word === '--') {
        this.restAreArgs = true;
        continue;
      }
      if (word.startsWith('--')) return this.longOpt(word);
      this.cluster = word.slice(1);
      this.clusterWord = word;
    }
  }

  /** The leftover (non-option) arguments, like poptGetArg one after another. */
  args(): string[] {
    return this.leftovers;
  }

  private longOpt(word: string): PoptStep {
    const eq = word.indexOf('=');
    const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
    const spec = this.table.find((o) => o.long === name);
    if (spec === undefined) return { kind: 'error', error: 'unknown option', badOption: word };
    if (spec.arg === 'none') {
      if (eq >= 0) return { kind: 'error', error: 'option does not take an argument', badOption: word };
      return { kind: 'option', tag: spec.tag, arg: null, word };
    }
    if (eq >= 0) return { kind: 'option', tag: spec.tag, arg: word.slice(eq + 1), word };
    return this.separateArg(spec, word);
  }

  private shortOpt(): PoptStep {
    const ch = this.cluster[0];
    const word = this.clusterWord;
    this.cluster = this.cluster.slice(1);
    const spec = this.table.find((o) => o.short !== '' && o.short === ch);
    if (spec === undefined) {
      this.cluster = '';
      return { kind: 'error', error: 'unknown option', badOption: word };
    }
    if (spec.arg === 'none') return { kind: 'option', tag: spec.tag, arg: null, word };
    if (this.cluster !== '') {
      const arg = this.cluster.startsWith('=') ? this.cluster.slice(1) : this.cluster;
      this.cluster = '';
      return { kind: 'option', tag: spec.tag, arg, word };
    }
    return this.separateArg(spec, word);
  }

  private separateArg(spec: OptionSpec, word: string): PoptStep {
    if (this.next >= this.argv.length) {
      if (spec.arg === 'optional') return { kind: 'option', tag: spec.tag, arg: null, word };
      return { kind: 'error', error: 'missing argument', badOption: word };
    }
    const candidate = this.argv[this.next];
    if (spec.arg === 'optional' && candidate.startsWith('-')) {
      return { kind: 'option', tag: spec.tag, arg: null, word };
    }
    this.next++;
    return { kind: 'option', tag: spec.tag, arg: candidate, word };
  }
}
