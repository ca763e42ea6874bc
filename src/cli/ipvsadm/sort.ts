// ipvsadm's ordering of listings. ipvsadm sorts with qsort() and comparators that subtract 32-bit
// unsigned values into a C int, so the order is not even transitive for addresses more than 2^31
// apart (200.0.0.1 sorts before 1.2.3.4). To print the same order, lbctl uses the same comparisons
// (with the same wrap-around) and the same algorithm as Debian 12's glibc 2.36 qsort: a top-down
// merge sort that splits n into n/2 and n - n/2 and takes the left element on ties.
import type { KernelDestinationEntry, KernelServiceEntry } from './kernel';

/** glibc 2.36 msort_with_tmp, on an array (stable; exact sequence of comparisons). */
export function glibcMergeSort<T>(items: T[], cmp: (a: T, b: T) => number): T[] {
  if (items.length < 2) return items;
  const tmp = new Array<T>(items.length);
  const sort = (lo: number, n: number): void => {
    if (n <= 1) return;
    let n1 = n >>> 1;
    let n2 = n - n1;
    sort(lo, n1);
    sort(lo + n1, n2);
    let i1 = lo;
    let i2 = lo + n1;
    let t = 0;
    while (n1 > 0 && n2 > 0) {
      if (cmp(items[i1], items[i2]) <= 0) {
        tmp[t++] = items[i1++];
        n1--;
      } else {
        tmp[t++] = items[i2++];
        n2--;
      }
    }
    while (n1 > 0) {
      tmp[t++] = items[i1++];
      n1--;
    }
    for (let k = 0; k < t; k++) items[lo + k] = tmp[k];
  };
  sort(0, items.length);
  return items;
}

/** a - b for two u32 values, as a C int. */
const diff32 = (a: number, b: number): number => (a - b) | 0;

function cmpAddr(af6: boolean, a: readonly number[], b: readonly number[]): number {
  if (af6) {
    let r = 0;
    for (let i = 0; r === 0 && i < 4; i++) r = diff32(a[i] ?? 0, b[i] ?? 0);
    return r;
  }
  return diff32(a[0] ?? 0, b[0] ?? 0);
}

const AF = (f: 'inet' | 'inet6') => (f === 'inet6' ? 10 : 2);

export function cmpServices(s1: KernelServiceEntry, s2: KernelServiceEntry): number {
  let r = diff32(s1.fwmarkValue, s2.fwmarkValue);
  if (r !== 0) return r;
  if (s1.family !== s2.family) return AF(s1.family) - AF(s2.family);
  r = s1.protoNum - s2.protoNum;
  if (r !== 0) return r;
  r = cmpAddr(s1.family === 'inet6', s1.addrWords, s2.addrWords);
  if (r !== 0) return r;
  return s1.portValue - s2.portValue;
}

export function cmpDests(d1: KernelDestinationEntry, d2: KernelDestinationEntry): number {
  const r = cmpAddr(d1.family === 'inet6', d1.addrWords, d2.addrWords);
  if (r !== 0) return r;
  return d1.port - d2.port;
}
