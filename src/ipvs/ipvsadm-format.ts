// The IPVS table in ipvsadm's rule syntax, exactly as `ipvsadm -Sn` prints it (and `ipvsadm -R` reads it;
// -S leaves out the real servers' thresholds, RuleOptions.thresholds adds them).
import { formatEndpoint } from './address';
import type { Destination, Service, ServiceKey, VirtualService } from './types';

function keyArgs(key: ServiceKey): string {
  switch (key.protocol) {
    case 'fwmark':
      return `-f ${key.fwmark}`;
    case 'tcp':
      return `-t ${formatEndpoint(key.address, key.port)}`;
    case 'udp':
      return `-u ${formatEndpoint(key.address, key.port)}`;
    case 'sctp':
      return `--sctp-service ${formatEndpoint(key.address, key.port)}`;
  }
}

function schedFlagNames(s: Service): string[] {
  const prefix = s.scheduler === 'sh' || s.scheduler === 'mh' ? s.scheduler : null;
  const out: string[] = [];
  if (s.flags.sched1) out.push(prefix ? `${prefix}-fallback` : 'flag-1');
  if (s.flags.sched2) out.push(prefix ? `${prefix}-port` : 'flag-2');
  if (s.flags.sched3) out.push('flag-3');
  return out;
}

/** `-A -t 10.0.0.1:80 -s rr -p 300 -M 255.255.255.0` */
export function serviceRule(s: Service): string {
  let line = `-A ${keyArgs(s.key)}`;
  if (s.key.protocol === 'fwmark' && s.key.family === 'inet6') line += ' -6';
  line += ` -s ${s.scheduler}`;
  if (s.flags.persistent) {
    line += ` -p ${s.timeout}`;
    if (s.netmask.family === 'inet' && s.netmask.mask !== '255.255.255.255') line += ` -M ${s.netmask.mask}`;
    if (s.netmask.family === 'inet6' && s.netmask.prefix !== 128) line += ` -M ${s.netmask.prefix}`;
  }
  if (s.pe) line += ` --pe ${s.pe}`;
  if (s.flags.onePacket) line += ' -o';
  const flags = schedFlagNames(s);
  if (flags.length > 0) line += ` -b ${flags.join(',')}`;
  return line;
}

const FWD: Record<Destination['forward']['method'], string> = {
  masq: '-m',
  route: '-g',
  tunnel: '-i',
  local: '-g',
  bypass: '-g',
};

export interface RuleOptions {
  /** Add -x/-y thresholds (ipvsadm -R reads them; ipvsadm -S does not print them). */
  thresholds?: boolean;
}

/** `-a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 7` */
export function destinationRule(key: ServiceKey, d: Destination, options: RuleOptions = {}): string {
  const v6mark = key.protocol === 'fwmark' && key.family === 'inet6' ? ' -6' : '';
  let line = `-a ${keyArgs(key)}${v6mark} -r ${formatEndpoint(d.address, d.port)} ${FWD[d.forward.method]} -w ${d.weight}`;
  if (options.thresholds && d.upperThreshold) line += ` -x ${d.upperThreshold}`;
  if (options.thresholds && d.lowerThreshold) line += ` -y ${d.lowerThreshold}`;
  if (d.forward.method === 'tunnel') {
    const t = d.forward.tunnel;
    line += ` --tun-type ${t.type}`;
    if (t.type === 'gue') line += ` --tun-port ${t.port}`;
    if (t.type !== 'ipip') line += ` --tun-${t.checksum}`;
  }
  return line;
}

/** The whole table, service by service, each followed by its real servers. */
export function tableRules(table: readonly VirtualService[], options: RuleOptions = {}): string[] {
  const out: string[] = [];
  for (const s of table) {
    out.push(serviceRule(s));
    for (const d of s.destinations) out.push(destinationRule(s.key, d, options));
  }
  return out;
}
