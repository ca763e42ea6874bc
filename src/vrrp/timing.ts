// RFC 3768 / RFC 5798 timers, all in milliseconds.
import { VrrpVersion } from './packet';

/** Skew_Time: v3 ((256 - priority) x Master_Adver_Interval) / 256; v2 (256 - priority) / 256 s. */
export function skewMs(version: VrrpVersion, priority: number, masterAdverIntervalCs: number): number {
  if (version === 2) return ((256 - priority) * 1000) / 256;
  return ((256 - priority) * masterAdverIntervalCs * 10) / 256;
}

/** Master_Down_Interval = 3 x Master_Adver_Interval + Skew_Time. */
export function masterDownMs(version: VrrpVersion, priority: number, masterAdverIntervalCs: number): number {
  return 3 * masterAdverIntervalCs * 10 + skewMs(version, priority, masterAdverIntervalCs);
}
