// systemd's notification protocol (sd_notify): one datagram on the AF_UNIX socket named by
// $NOTIFY_SOCKET ("@name" is the abstract namespace). Node has no Unix datagram sockets, hence this.
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "registry.h"

namespace {

// notify(socketPath: string, message: string): undefined; throws Error with errno text on failure.
Napi::Value Notify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
    Napi::TypeError::New(env, "notify(socketPath, message): two strings expected").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string msg = info[1].As<Napi::String>().Utf8Value();
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    Napi::Error::New(env, "NOTIFY_SOCKET path empty or too long: '" + path + "'").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';
  socklen_t len = offsetof(struct sockaddr_un, sun_path) + path.size();
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    Napi::Error::New(env, std::string("socket(AF_UNIX): ") + strerror(errno)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ssize_t n = sendto(fd, msg.data(), msg.size(), MSG_NOSIGNAL, reinterpret_cast<struct sockaddr*>(&addr), len);
  int err = errno;
  close(fd);
  if (n < 0) {
    Napi::Error::New(env, "sd_notify to '" + path + "': " + strerror(err)).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

void InitSdNotify(Napi::Env env, Napi::Object target) { target.Set("notify", Napi::Function::New(env, Notify, "notify")); }

}  // namespace

LBD_MODULE(sdnotify, InitSdNotify);
