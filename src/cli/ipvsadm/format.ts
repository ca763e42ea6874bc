// Text output byte-identical to ipvsadm 1.31: the table (-L with -n, --exact, --stats, --rate,
// --thresholds, --persistent-conn, --tun-info, --nosort), one service, the rules (-S), timeouts,
// sync daemons and the connection table (-c). Names (without -n) are resolved beforehand into a
// NameTable so that formatting itself is synchronous.
import type { Daemon, Timeouts } from '../../ipvs/types';
import type { KernelDestinationEntry, KernelInfo, KernelServiceEntry } from './kernel';
import { FMT } from './parse';
import {
  addrToHost,
  formatIpv4,
  inetNtop6,
  inetPton4,
  inetPton6,
  portToService,
  type ProtoName,
} from './resolve';
import { cmpDests, cmpServices, glibcMergeSort } from './sort';

const padR = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));
const padL = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);

/** print_largenum: 9 columns, K/M/G/T abbreviations unless --exact. */
export function largenum(i: bigint, format: number): string {
  if (format & FMT.EXACT) {
    const s = i.toString();
    return padL(s, s.length <= 8 ? 9 : s.length + 1);
  }
  if (i < 100000000n) return padL(i.toString(), 9);
  if (i < 1000000000n) return padL((i / 1000n).toString(), 8) + 'K';
  if (i < 100000000000n) return padL((i / 1000000n).toString(), 8) + 'M';
  if (i < 100000000000000n) return padL((i / 1000000000n).toString(), 8) + 'G';
  return padL((i / 1000000000000n).toString(), 8) + 'T';
}

/** Host and service names for listings without -n (gethostbyaddr / getservbyport results). */
export class NameTable {
  private readonly hosts = new Map<string, string | null>();
  /** Resolves every address in parallel. */
  async load(addresses: Iterable<string>): Promise<void> {
    const todo = [...new Set(addresses)].filter((a) => !this.hosts.has(a));
    const names = await Promise.all(todo.map((a) => addrToHost(a)));
    todo.forEach((a, i) => this.hosts.set(a, names[i]));
  }
  host(address: string): string {
    return this.hosts.get(address) ?? address;
  }
}

const protoName = (p: number): ProtoName | null =>
  p === 6 ? 'tcp' : p === 17 ? 'udp' : p === 132 ? 'sctp' : null;

/** addrport_to_anyname. */
export function addrPort(
  af6: boolean,
  address: string,
  port: number,
  proto: number,
  format: number,
  names?: NameTable,
): string {
  let s: string;
  if (format & FMT.NUMERIC || names === undefined) {
    s = af6 ? `[${address}]:${port}` : `${address}:${port}`;
  } else {
    const h = names.host(address);
    const p = portToService(port, protoName(proto)) ?? String(port);
    s = af6 ? `[${h}]:${p}` : `${h}:${p}`;
  }
  return s.length > 59 ? s.slice(0, 59) : s;
}

const FWD_NAMES = ['Masq', 'Local', 'Tunnel', 'Route'];
const FWD_SWITCH = ['-m', '-g', '-i', '-g'];
const TUN_FLAGS = ['-c', '+c', 'r+c'];
const TUN_FLAG_OPTS = ['--tun-nocsum', '--tun-csum', '--tun-remcsum'];

const fwdName = (fwd: number) => FWD_NAMES[fwd & 7] ?? '(null)';
const fwdSwitch = (fwd: number) => FWD_SWITCH[fwd & 7] ?? '(null)';

function tunInfo(d: KernelDestinationEntry): string | null {
  if ((d.fwdNum & 7) !== 2) return null;
  if (d.tunType === 0) return 'ipip';
  if (d.tunType === 1) return `gue:${d.tunPort}:${TUN_FLAGS[d.tunFlags] ?? '(null)'}`;
  if (d.tunType === 2) return `gre:${TUN_FLAGS[d.tunFlags] ?? '(null)'}`;
  return null;
}

function schedFlags(s: KernelServiceEntry): string {
  const f = s.rawFlags;
  const out: string[] = [];
  // ipvsadm names only sh's and mh's own flags for those schedulers (a flag-3 there prints "()")
  if (s.scheduler === 'sh' || s.scheduler === 'mh') {
    if (f & 0x8) out.push(`${s.scheduler}-fallback`);
    if (f & 0x10) out.push(`${s.scheduler}-port`);
  } else {
    if (f & 0x8) out.push('flag-1');
    if (f & 0x10) out.push('flag-2');
    if (f & 0x20) out.push('flag-3');
  }
  return out.join(',');
}

function title(format: number): string {
  if (format & FMT.STATS) {
    return `${padR('Prot LocalAddress:Port', 33)} ${['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'].map((x) => padL(x, 8)).join(' ')}\n  -> RemoteAddress:Port\n`;
  }
  if (format & FMT.RATE) {
    return `${padR('Prot LocalAddress:Port', 33)} ${['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'].map((x) => padL(x, 8)).join(' ')}\n  -> RemoteAddress:Port\n`;
  }
  if (format & FMT.THRESHOLDS) {
    return `${padR('Prot LocalAddress:Port', 33)} ${['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'].map((x) => padR(x, 10)).join(' ')}\n  -> RemoteAddress:Port\n`;
  }
  if (format & FMT.PERSISTENTCONN) {
    return `${padR('Prot LocalAddress:Port', 33)} ${padR('Weight', 9)} ${padR('PersistConn', 11)} ${padR('ActiveConn', 10)} ${padR('InActConn', 10)}\n  -> RemoteAddress:Port\n`;
  }
  if (format & FMT.TUN_INFO) {
    return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n';
  }
  if (!(format & FMT.RULE)) {
    return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
  }
  return '';
}

const netmaskText = (s: KernelServiceEntry): string | null => {
  if (s.family === 'inet') {
    if (s.rawNetmask === 0xffffffff) return null;
    return s.netmask.family === 'inet' ? s.netmask.mask : null;
  }
  return s.rawNetmask !== 128 ? String(s.rawNetmask | 0) : null;
};

/** print_service_entry. */
export function serviceEntry(s: KernelServiceEntry, format: number, names?: NameTable): string {
  const af6 = s.family === 'inet6';
  let svcName: string;
  if (s.key.protocol === 'fwmark') {
    if (format & FMT.RULE) svcName = af6 ? `-f ${s.fwmarkValue | 0} -6` : `-f ${s.fwmarkValue | 0}`;
    else svcName = af6 ? `FWM  ${s.fwmarkValue | 0} IPv6` : `FWM  ${s.fwmarkValue | 0}`;
  } else {
    const vname = addrPort(af6, s.key.address, s.portValue, s.protoNum, format, names);
    if (format & FMT.RULE) {
      const opt =
        s.protoNum === 6
          ? '-t'
          : s.protoNum === 17
            ? '-u'
            : s.protoNum === 132
              ? '--sctp-service'
              : '--xxx-service';
      svcName = `${opt} ${vname}`;
    } else {
      const p = s.protoNum === 6 ? 'TCP' : s.protoNum === 17 ? 'UDP' : s.protoNum === 132 ? 'SCTP' : '???';
      svcName = `${padR(p, 4)} ${vname}`;
      if (!af6) svcName = svcName.slice(0, 33);
    }
  }
  let out = '';
  const persistent = (s.rawFlags & 1) !== 0;
  const mask = netmaskText(s);
  const flagsText = s.rawFlags & 0x38 ? schedFlags(s) : '';
  if (format & FMT.RULE) {
    out += `-A ${svcName} -s ${s.scheduler}`;
    if (persistent) {
      out += ` -p ${s.timeout}`;
      if (mask !== null) out += ` -M ${mask}`;
    }
    if (s.pe !== null) out += ` --pe ${s.pe}`;
    if (s.rawFlags & 0x4) out += ' -o';
    if (s.rawFlags & 0x38) out += ` -b ${flagsText}`;
  } else if (format & FMT.STATS) {
    const st = s.stats;
    out += padR(svcName, 33);
    for (const v of [st.conns, st.inPackets, st.outPackets, st.inBytes, st.outBytes])
      out += largenum(v, format);
  } else if (format & FMT.RATE) {
    const st = s.stats;
    out += padR(svcName, 33);
    for (const v of [st.cps, st.inPps, st.outPps, st.inBps, st.outBps]) out += largenum(v, format);
  } else {
    out += `${svcName} ${s.scheduler}`;
    if (s.rawFlags & 0x38) out += ` (${flagsText})`;
    if (persistent) {
      out += ` persistent ${s.timeout}`;
      if (mask !== null) out += ` mask ${mask}`;
      if (s.pe !== null) out += ` pe ${s.pe}`;
    }
    if (s.rawFlags & 0x4) out += ' ops';
  }
  out += '\n';

  const dests =
    format & FMT.NOSORT || s.destinations.length < 2
      ? s.destinations
      : glibcMergeSort([...s.destinations], cmpDests);
  for (const d of dests) {
    const daf6 = d.family === 'inet6';
    let dname = addrPort(daf6, d.address, d.port, s.protoNum, format, names);
    if (!(format & FMT.RULE) && !daf6) dname = dname.slice(0, 28);
    if (format & FMT.RULE) {
      const base = `-a ${svcName} -r ${dname} ${fwdSwitch(d.fwdNum)} -w ${d.weight}`;
      if ((d.fwdNum & 7) === 2) {
        if (d.tunType === 1) {
          out += `${base} --tun-type gue --tun-port ${d.tunPort} ${TUN_FLAG_OPTS[d.tunFlags] ?? '(null)'}\n`;
        } else if (d.tunType === 2) {
          out += `${base} --tun-type gre ${TUN_FLAG_OPTS[d.tunFlags] ?? '(null)'}\n`;
        } else if (d.tunType === 0) {
          out += `${base} --tun-type ipip\n`;
        } else out += `${base}\n`;
      } else out += `${base}\n`;
    } else if (format & FMT.STATS) {
      const st = d.stats;
      out += `  -> ${padR(dname, 28)}`;
      for (const v of [st.conns, st.inPackets, st.outPackets, st.inBytes, st.outBytes])
        out += largenum(v, format);
      out += '\n';
    } else if (format & FMT.RATE) {
      const st = d.stats;
      out += `  -> ${padR(dname, 28)} ${padL(st.cps.toString(), 8)} ${padL(st.inPps.toString(), 8)} ${padL(st.outPps.toString(), 8)}`;
      out += largenum(st.inBps, format) + largenum(st.outBps, format) + '\n';
    } else if (format & FMT.THRESHOLDS) {
      out += `  -> ${padR(dname, 28)} ${padR(String(d.upperThreshold), 10)} ${padR(String(d.lowerThreshold), 10)} ${padR(String(d.activeConns), 10)} ${padR(String(d.inactiveConns), 10)}\n`;
    } else if (format & FMT.PERSISTENTCONN) {
      out += `  -> ${padR(dname, 28)} ${padR(String(d.weight >>> 0), 9)} ${padR(String(d.persistentConns), 11)} ${padR(String(d.activeConns), 10)} ${padR(String(d.inactiveConns), 10)}\n`;
    } else if (format & FMT.TUN_INFO) {
      out += `  -> ${padR(dname, 28)} ${padR(fwdName(d.fwdNum), 7)} ${padR(tunInfo(d) ?? 'n/a', 13)} ${padR(String(d.weight), 6)} ${padR(String(d.activeConns), 10)} ${padR(String(d.inactiveConns), 10)}\n`;
    } else {
      out += `  -> ${padR(dname, 28)} ${padR(fwdName(d.fwdNum), 7)} ${padR(String(d.weight), 6)} ${padR(String(d.activeConns), 10)} ${padR(String(d.inactiveConns), 10)}\n`;
    }
  }
  return out;
}

/** Every address a listing prints (for NameTable.load). */
export function addressesOf(svcs: readonly KernelServiceEntry[]): string[] {
  const out: string[] = [];
  for (const s of svcs) {
    if (s.key.protocol !== 'fwmark') out.push(s.key.address);
    for (const d of s.destinations) out.push(d.address);
  }
  return out;
}

/** list_all (and -S when format has FMT.RULE). */
export function listAll(
  info: KernelInfo,
  svcs: KernelServiceEntry[],
  format: number,
  names?: NameTable,
): string {
  let out = '';
  if (!(format & FMT.RULE)) out += `IP Virtual Server version ${info.version} (size=${info.connTableSize})\n`;
  const list = format & FMT.NOSORT ? svcs : glibcMergeSort([...svcs], cmpServices);
  out += title(format);
  const parts: string[] = [out];
  for (const s of list) parts.push(serviceEntry(s, format, names));
  return parts.join('');
}

/** list_service: one service, without the version line. */
export function listService(svc: KernelServiceEntry, format: number, names?: NameTable): string {
  return title(format) + serviceEntry(svc, format, names);
}

export function listTimeout(t: Timeouts): string {
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpFin} ${t.udp}\n`;
}

export function listDaemon(daemons: readonly Daemon[]): string {
  let out = '';
  for (const d of daemons) {
    out += `${d.state} sync daemon (mcast=${d.interface}, syncid=${d.syncId}`;
    if (d.maxLength) out += `, maxlen=${d.maxLength}`;
    if (d.group !== undefined) out += `, group=${d.group}`;
    if (d.port) out += `, port=${d.port}`;
    if (d.ttl) out += `, ttl=${d.ttl}`;
    out += ')\n';
  }
  return out;
}

// ---- connection table (/proc/net/ip_vs_conn) --------------------------------------------------

export interface ConnEntry {
  protocol: string;
  family: 'inet' | 'inet6';
  client: { address: string; port: number };
  virtual: { address: string; port: number };
  destination: { address: string; port: number };
  state: string;
  expires: number;
  peName: string;
  peData: string;
}

function connAddr(text: string, af6: boolean, v4hex: boolean): string {
  if (af6) {
    const b = inetPton6(text);
    return b ? inetNtop6(b) : '::';
  }
  if (!v4hex) {
    const v = inetPton4(text);
    return formatIpv4(v ?? 0);
  }
  const n = parseInt(text, 16);
  return formatIpv4(Number.isNaN(n) ? 0 : n >>> 0);
}

/** The lines of /proc/net/ip_vs_conn after its heading. */
export function parseConns(text: string): ConnEntry[] {
  const lines = text.split('\n');
  const out: ConnEntry[] = [];
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].trim().split(/\s+/);
    if (f.length < 9 || f[0] === '') continue;
    const af6 = inetPton6(f[1]) !== null;
    const v4hex = !af6 && inetPton4(f[1]) === null;
    out.push({
      protocol: f[0],
      family: af6 ? 'inet6' : 'inet',
      client: { address: connAddr(f[1], af6, v4hex), port: parseInt(f[2], 16) & 0xffff },
      virtual: { address: connAddr(f[3], af6, v4hex), port: parseInt(f[4], 16) & 0xffff },
      destination: { address: connAddr(f[5], af6, v4hex), port: parseInt(f[6], 16) & 0xffff },
      state: f[7],
      expires: parseInt(f[8], 10) | 0,
      peName: f[9] ?? '',
      peData: f[10] ?? '',
    });
  }
  return out;
}

export function connAddresses(conns: readonly ConnEntry[]): string[] {
  return conns.flatMap((c) => [c.client.address, c.virtual.address, c.destination.address]);
}

export function listConns(conns: readonly ConnEntry[], format: number, names?: NameTable): string {
  let out = 'IPVS connection entries\n';
  if (format & FMT.PERSISTENTCONN) {
    out += `pro expire ${padR('state', 11)} ${padR('source', 18)} ${padR('virtual', 18)} ${padR('destination', 18)} ${padR('pe name', 16)} pe_data\n`;
  } else {
    out += `pro expire ${padR('state', 11)} ${padR('source', 18)} ${padR('virtual', 18)} destination\n`;
  }
  for (const c of conns) {
    const proto = c.protocol === 'TCP' ? 6 : c.protocol === 'UDP' ? 17 : c.protocol === 'SCTP' ? 132 : 0;
    const af6 = c.family === 'inet6';
    const cname = addrPort(af6, c.client.address, c.client.port, proto, format, names);
    const vname = addrPort(af6, c.virtual.address, c.virtual.port, proto, format, names);
    const dname = addrPort(af6, c.destination.address, c.destination.port, proto, format, names);
    const mm = String(Math.trunc(c.expires / 60)).padStart(2, '0');
    const ss = String(c.expires % 60).padStart(2, '0');
    const head = `${padR(c.protocol, 3)} ${padR(`${mm}:${ss}`, 6)} ${padR(c.state, 11)} ${padR(cname, 18)} ${padR(vname, 18)}`;
    // ipvsadm prints the engine's columns only for entries that have them
    if (format & FMT.PERSISTENTCONN && c.peName !== '')
      out += `${head} ${padR(dname, 18)} ${padR(c.peName, 16)} ${c.peData}\n`;
    else out += `${head} ${dname}\n`;
  }
  return out;
}
