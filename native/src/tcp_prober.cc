// TCP connect probes for the health checker's TCP_CHECK, many at once, off node's stream machinery.
//
// Each probe is a non-blocking socket with TCP_QUICKACK off (so the kernel holds back the last ACK of
// the handshake, as HAProxy does for its connect-only checks: the server never completes, never
// accepts, and neither side creates a full connection) and SO_LINGER {1, 0} (close() resets, no
// FIN exchange, no TIME_WAIT). The sockets are registered in one epoll set of their own; that set's
// descriptor is watched by one uv_poll handle on node's loop, so a whole batch of completions costs
// one wake-up and one call into JavaScript.
//
//   const p = new TcpProber((n) => { for i < n: slot = p.results[2i], errno = p.results[2i + 1] });
//   const slot = p.start(ip, port, bindIp or '', bindPort or 0);   // >= 0, or -errno at once
//   p.cancel(slot);   // closes an attempt in flight; its result never comes
//   p.close();        // closes everything
//
// A slot reported in a batch is not handed out again before the callback returns, so a result can
// never be mistaken for that of a newer probe.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <string>
#include <vector>

#include "registry.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace {

constexpr int kBatch = 1024;

union SockAddr {
  struct sockaddr sa;
  struct sockaddr_in in4;
  struct sockaddr_in6 in6;
};

// Parses an IPv4 or IPv6 literal; returns the address length, 0 when invalid.
socklen_t ParseAddr(const char* ip, int port, SockAddr* out) {
  memset(out, 0, sizeof(*out));
  if (inet_pton(AF_INET, ip, &out->in4.sin_addr) == 1) {
    out->in4.sin_family = AF_INET;
    out->in4.sin_port = htons(static_cast<uint16_t>(port));
    return sizeof(out->in4);
  }
  if (inet_pton(AF_INET6, ip, &out->in6.sin6_addr) == 1) {
    out->in6.sin6_family = AF_INET6;
    out->in6.sin6_port = htons(static_cast<uint16_t>(port));
    return sizeof(out->in6);
  }
  return 0;
}

class TcpProber : public Napi::ObjectWrap<TcpProber> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TcpProber",
                       {InstanceMethod<&TcpProber::Start>("start"), InstanceMethod<&TcpProber::Cancel>("cancel"),
                        InstanceMethod<&TcpProber::Close>("close"),
                        InstanceAccessor<&TcpProber::InFlight>("inFlight")});
  }

  explicit TcpProber(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TcpProber>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) {
      Napi::TypeError::New(env, "new TcpProber(onResults): a function expected").ThrowAsJavaScriptException();
      return;
    }
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, sizeof(int32_t) * 2 * kBatch);
    results_ = static_cast<int32_t*>(ab.Data());
    Napi::Int32Array view = Napi::Int32Array::New(env, 2 * kBatch, ab, 0);
    info.This().As<Napi::Object>().Set("results", view);
    buffer_ = Napi::Persistent(ab);
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) {
      Napi::Error::New(env, std::string("epoll_create1: ") + strerror(errno)).ThrowAsJavaScriptException();
      return;
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      Napi::Error::New(env, "TcpProber: no event loop").ThrowAsJavaScriptException();
      return;
    }
    poll_ = new uv_poll_t;
    poll_->data = this;
    if (uv_poll_init(loop, poll_, epfd_) != 0 || uv_poll_start(poll_, UV_READABLE, OnPoll) != 0) {
      delete poll_;
      poll_ = nullptr;
      Napi::Error::New(env, "TcpProber: uv_poll_init failed").ThrowAsJavaScriptException();
      return;
    }
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));  // referenced only while probes are in flight
    async_context_ = new Napi::AsyncContext(env, "lbd.TcpProber");
    napi_add_env_cleanup_hook(env, CleanupHook, this);
    hooked_ = true;
  }

  ~TcpProber() override { Shutdown(); }

 private:
  // start(ip, port, bindIp, bindPort): slot >= 0, or -errno when the attempt failed at once.
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (epfd_ < 0) return Napi::Number::New(env, -EBADF);
    char ip[INET6_ADDRSTRLEN + 1];
    char bind_ip[INET6_ADDRSTRLEN + 1];
    size_t len = 0;
    if (info.Length() < 4 || !info[0].IsString() || !info[2].IsString() ||
        napi_get_value_string_utf8(env, info[0], ip, sizeof(ip), &len) != napi_ok ||
        napi_get_value_string_utf8(env, info[2], bind_ip, sizeof(bind_ip), &len) != napi_ok) {
      Napi::TypeError::New(env, "start(ip, port, bindIp, bindPort) expected").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    int port = info[1].As<Napi::Number>().Int32Value();
    int bind_port = info[3].As<Napi::Number>().Int32Value();
    SockAddr dst;
    socklen_t dst_len = ParseAddr(ip, port, &dst);
    if (dst_len == 0 || port <= 0 || port > 65535) return Napi::Number::New(env, -EINVAL);
    int err = 0;
    int fd = socket(dst.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) return Napi::Number::New(env, -errno);
    int zero = 0;
    struct linger lg = {1, 0};
    if (setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof(zero)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0) {
      err = errno;
    }
    if (err == 0 && (bind_ip[0] != '\0' || bind_port != 0)) {
      SockAddr src;
      socklen_t src_len;
      if (bind_ip[0] != '\0') {
        src_len = ParseAddr(bind_ip, bind_port, &src);
      } else {
        src_len = ParseAddr(dst.sa.sa_family == AF_INET ? "0.0.0.0" : "::", bind_port, &src);
      }
      if (src_len == 0 || src.sa.sa_family != dst.sa.sa_family) {
        err = EINVAL;
      } else {
        // Without a source port, let connect() pick it (per destination) instead of bind().
        int one = 1;
        if (bind_port == 0) setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(fd, &src.sa, src_len) < 0) err = errno;
      }
    }
    if (err == 0 && connect(fd, &dst.sa, dst_len) < 0 && errno != EINPROGRESS) err = errno;
    int slot = -1;
    if (err == 0) {
      slot = AllocSlot();
      struct epoll_event ev;
      ev.events = EPOLLOUT;  // EPOLLERR and EPOLLHUP are always reported
      ev.data.u64 = static_cast<uint64_t>(slot);
      if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
        err = errno;
        free_.push_back(slot);
      }
    }
    if (err != 0) {
      close(fd);
      return Napi::Number::New(env, -err);
    }
    fds_[slot] = fd;
    if (in_flight_++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return Napi::Number::New(env, slot);
  }

  void Cancel(const Napi::CallbackInfo& info) {
    int slot = info[0].As<Napi::Number>().Int32Value();
    if (slot < 0 || static_cast<size_t>(slot) >= fds_.size() || fds_[slot] < 0) return;
    close(fds_[slot]);  // also leaves the epoll set
    fds_[slot] = -1;
    free_.push_back(slot);
    Done();
  }

  void Close(const Napi::CallbackInfo& info) { Shutdown(); }

  Napi::Value InFlight(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), in_flight_); }

  int AllocSlot() {
    if (!free_.empty()) {
      int slot = free_.back();
      free_.pop_back();
      return slot;
    }
    fds_.push_back(-1);
    return static_cast<int>(fds_.size() - 1);
  }

  void Done() {
    if (--in_flight_ == 0 && poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    static_cast<TcpProber*>(handle->data)->Collect();
  }

  // Completes the probes epoll reports, then hands the batch to JavaScript in one call.
  void Collect() {
    struct epoll_event evs[kBatch];
    int n = epoll_wait(epfd_, evs, kBatch, 0);
    if (n <= 0) return;
    int count = 0;
    std::vector<int> reported;
    reported.reserve(n);
    for (int i = 0; i < n; i++) {
      int slot = static_cast<int>(evs[i].data.u64);
      int fd = fds_[slot];
      if (fd < 0) continue;
      int so_error = 0;
      socklen_t len = sizeof(so_error);
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0) so_error = errno;
      if (so_error == 0 && !(evs[i].events & EPOLLOUT)) so_error = ECONNRESET;
      close(fd);  // SO_LINGER {1, 0}: a reset when connected
      fds_[slot] = -1;
      reported.push_back(slot);
      results_[2 * count] = slot;
      results_[2 * count + 1] = so_error;
      count++;
      Done();
    }
    if (count > 0) {
      Napi::Env env = callback_.Env();
      Napi::HandleScope scope(env);
      callback_.MakeCallback(Value(), {Napi::Number::New(env, count)}, *async_context_);
      if (env.IsExceptionPending()) {
        // An exception in the callback is the process's uncaught exception, as for any I/O callback.
        napi_value e;
        napi_get_and_clear_last_exception(env, &e);
        napi_fatal_exception(env, e);
      }
    }
    if (epfd_ >= 0) {
      for (int slot : reported) free_.push_back(slot);
    }
  }

  void Shutdown() {
    for (int& fd : fds_) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
    fds_.clear();
    free_.clear();
    in_flight_ = 0;
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (epfd_ >= 0) close(epfd_);
    epfd_ = -1;
    if (async_context_ != nullptr) {
      delete async_context_;
      async_context_ = nullptr;
    }
    if (hooked_) {
      napi_remove_env_cleanup_hook(Env(), CleanupHook, this);
      hooked_ = false;
    }
  }

  static void CleanupHook(void* arg) {
    auto* self = static_cast<TcpProber*>(arg);
    self->hooked_ = false;
    self->Shutdown();
  }

  Napi::FunctionReference callback_;
  Napi::Reference<Napi::ArrayBuffer> buffer_;
  int32_t* results_ = nullptr;
  int epfd_ = -1;
  uv_poll_t* poll_ = nullptr;
  Napi::AsyncContext* async_context_ = nullptr;
  bool hooked_ = false;
  std::vector<int> fds_;
  std::vector<int> free_;
  int in_flight_ = 0;
};

void InitTcpProber(Napi::Env env, Napi::Object target) { target.Set("TcpProber", TcpProber::Define(env)); }

}  // namespace

LBD_MODULE(tcpprobe, InitTcpProber);
