// lbd's IPVS API: addresses, object types, the client over the native generic netlink socket, diff().
export * from './address';
export * from './types';
export { Ipvs, throwOnFailure, type OperationResult, type IpvsOptions, type ApplyOptions } from './client';
export { diff, DiffError } from './diff';
export {
  IpvsError,
  IpvsUnavailableError,
  describeService,
  describeDestination,
  describeOperation,
  errnoName,
} from './errors';
export {
  makeService,
  makeDestination,
  serviceId,
  destinationId,
  sameServiceSettings,
  sameDestinationSettings,
  serviceSettings,
  destinationSettings,
  keyFamily,
  NO_FLAGS,
} from './model';
export {
  IpvsEncoder,
  decodeService,
  decodeDestination,
  decodeDaemon,
  decodeTimeouts,
  decodeInfo,
} from './codec';
export { MessageWriter, messages } from './netlink';
export { serviceRule, destinationRule, tableRules } from './ipvsadm-format';
export { NetlinkFormatError } from './netlink';
