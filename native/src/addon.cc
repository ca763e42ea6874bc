#include <utility>
#include <vector>

#include "registry.h"

namespace lbd {
namespace {
std::vector<std::pair<const char*, ModuleInit>>& Modules() {
  static std::vector<std::pair<const char*, ModuleInit>> modules;
  return modules;
}
}  // namespace

ModuleRegistrar::ModuleRegistrar(const char* name, ModuleInit init) { Modules().emplace_back(name, init); }

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  Napi::Array names = Napi::Array::New(env);
  uint32_t i = 0;
  for (auto& [name, init] : Modules()) {
    Napi::Object target = Napi::Object::New(env);
    init(env, target);
    exports.Set(name, target);
    names.Set(i++, Napi::String::New(env, name));
  }
  exports.Set("modules", names);
  return exports;
}
}  // namespace lbd

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return lbd::InitAll(env, exports); }

NODE_API_MODULE(lbd_native, InitAddon)
