// Each native module (ipvs, vrrp sockets, ...) registers itself here with LBD_MODULE(name, init);
// addon.cc exposes it as exports[name]. One file per module, no shared list to edit.
#pragma once
#include <napi.h>

namespace lbd {
using ModuleInit = void (*)(Napi::Env env, Napi::Object target);
struct ModuleRegistrar {
  ModuleRegistrar(const char* name, ModuleInit init);
};
}  // namespace lbd

#define LBD_MODULE(name, init) static ::lbd::ModuleRegistrar lbd_module_registrar_##name(#name, init)
