// The health checker's view of the configuration: one VirtualServiceConfig per configured virtual
// server, with keepalived's parameter names in seconds (the model keeps milliseconds).
import type { Config, HealthCheck, RealServer, VirtualServer } from '../config/model';
import type {
  CheckConfig,
  CommonCheckParams,
  RealServerConfig,
  VirtualServiceConfig,
} from '../health/config';
import { serviceKeys, realServerPort } from './desired-table';

const s = (ms: number) => ms / 1000;

function common(c: HealthCheck): CommonCheckParams {
  const out: CommonCheckParams = {
    connect_timeout: s(c.connect_timeout),
    retry: c.retry,
    delay_before_retry: s(c.delay_before_retry),
    delay_loop: s(c.delay_loop),
    log_all_failures: c.log_all_failures,
  };
  if (c.connect_ip !== undefined) out.connect_ip = c.connect_ip;
  if (c.connect_port !== undefined) out.connect_port = c.connect_port;
  if (c.bindto !== undefined) out.bindto = c.bindto;
  if (c.bind_port !== undefined) out.bind_port = c.bind_port;
  if (c.warmup > 0) out.warmup = s(c.warmup);
  return out;
}

export function checkConfig(c: HealthCheck): CheckConfig {
  switch (c.checker) {
    case 'TCP_CHECK':
      return { checker: 'TCP_CHECK', ...common(c) };
    case 'HTTP_GET':
    case 'SSL_GET':
      return {
        checker: c.checker,
        ...common(c),
        http_protocol: c.http_protocol,
        enable_sni: c.enable_sni,
        ...(c.virtualhost !== undefined ? { virtualhost: c.virtualhost } : {}),
        url: c.url.map((u) => ({
          path: u.path,
          status_code: u.status_code.map(([lo, hi]): [number, number] => [lo, hi]),
          ...(u.digest !== undefined ? { digest: u.digest } : {}),
          ...(u.regex !== undefined ? { regex: u.regex } : {}),
          ...(u.virtualhost !== undefined ? { virtualhost: u.virtualhost } : {}),
        })),
      };
    case 'MISC_CHECK':
      return {
        checker: 'MISC_CHECK',
        ...common(c),
        misc_path: c.misc_path,
        misc_timeout: s(c.misc_timeout),
        misc_dynamic: c.misc_dynamic,
      };
    case 'DNS_CHECK':
      return { checker: 'DNS_CHECK', ...common(c), type: c.type, name: c.name };
  }
}

function realServerConfig(rs: RealServer, vs: VirtualServer, port: number): RealServerConfig {
  return {
    ip: rs.address,
    port,
    weight: rs.weight,
    inhibit_on_failure: rs.inhibit_on_failure,
    alpha: rs.alpha,
    slow_start: s(rs.slow_start),
    delay_loop: s(vs.delay_loop),
    checks: rs.checks.map(checkConfig),
  };
}

/** Health checker configuration of one virtual server (its id is the config's virtual server id). */
export function healthService(config: Config, vs: VirtualServer): VirtualServiceConfig {
  // The real servers' ports as the desired table programs them, for the first of the server's keys.
  const key = serviceKeys(config, vs)[0];
  const out: VirtualServiceConfig = {
    id: vs.id,
    quorum: vs.quorum,
    hysteresis: vs.hysteresis,
    delay_loop: s(vs.delay_loop),
    alpha: vs.alpha,
    inhibit_on_failure: vs.inhibit_on_failure,
    real_servers: vs.real_servers.map((rs) =>
      realServerConfig(rs, vs, key ? realServerPort(rs, key) : (rs.port ?? 0)),
    ),
  };
  if (vs.sorry_server) {
    const port = vs.sorry_server.port ?? (key && key.protocol !== 'fwmark' ? key.port : 0);
    out.sorry_server = { ip: vs.sorry_server.address, port };
  }
  return out;
}

/** Health checker configuration of every virtual server. */
export function healthServices(config: Config): VirtualServiceConfig[] {
  return config.virtual_servers.map((vs) => healthService(config, vs));
}
