// TCP connect probes for the health checker's TCP_CHECK, many at once, off node's stream machinery.
//
// Each probe is a non-blocking socket with TCP_QUICKACK off (so the kernel holds back the last ACK of
// the handshake, as HAProxy does for its connect-only checks: the server never completes, never
// accepts, and neither side creates a full connection) and SO_LINGER {1, 0} (close() resets, no
// FIN exchange, no TIME_WAIT). The sockets are registered in one epoll set of their own; that set's
// descriptor is watched by one uv_poll handle on node's loop, so a whole batch of completions costs
// one wake-up and one call into JavaScript.
//
// Probes without bindto/bind_port reuse their sockets: once a result is in, connect(AF_UNSPEC)
// dissolves the association (tcp_disconnect: a reset when established, the local port released) and
// the socket waits, disarmed (EPOLLONESHOT), for the next probe of its address family. That saves a
// socket() and a close() per check, about a quarter of a check's kernel time on loopback. At most
// max(kMinPool, probes in flight) sockets wait: a burst of timeouts does not leave thousands open.
//
//   const p = new TcpProber((n) => { for i < n: slot = p.results[2i], errno = p.results[2i + 1] });
//   const slot = p.start(ip, port, bindIp or '', bindPort or 0);   // >= 0, or -errno at once
//   p.cancel(slot);   // closes an attempt in flight; its result never comes
//   p.close();        // closes everything
//   p.inFlight, p.idle // probes in flight, pooled sockets waiting
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

#include <algorithm>
#include <string>
#include <vector>

#include "registry.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace {

constexpr int kBatch = 1024;
// Idle pooled sockets kept: at least this many, and no more than the probes in flight beyond it.
constexpr size_t kMinPool = 256;

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

// One probe's socket. A pooled socket (family != 0) outlives its probes.
struct Slot {
  int fd = -1;
  int family = 0;      // AF_INET or AF_INET6 when pooled, else 0 (closed after its probe)
  bool busy = false;   // a probe is in flight
};

class TcpProber : public Napi::ObjectWrap<TcpProber> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TcpProber",
                       {InstanceMethod<&TcpProber::Start>("start"), InstanceMethod<&TcpProber::Cancel>("cancel"),
                        InstanceMethod<&TcpProber::Close>("close"),
                        InstanceAccessor<&TcpProber::InFlight>("inFlight"),
                        InstanceAccessor<&TcpProber::Idle>("idle")});
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
    int family = dst.sa.sa_family;
    bool bound = bind_ip[0] != '\0' || bind_port != 0;
    std::vector<int>& idle = family == AF_INET ? idle4_ : idle6_;
    if (!bound && !idle.empty()) {
      int slot = idle.back();
      idle.pop_back();
      int err = Connect(slots_[slot].fd, slot, &dst, dst_len, EPOLL_CTL_MOD);
      if (err != 0) {
        Discard(slot);
        return Napi::Number::New(env, -err);
      }
      return Napi::Number::New(env, Busy(slot));
    }
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) return Napi::Number::New(env, -errno);
    int err = 0;
    struct linger lg = {1, 0};
    if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0) err = errno;
    if (err == 0 && bound) {
      SockAddr src;
      socklen_t src_len;
      if (bind_ip[0] != '\0') {
        src_len = ParseAddr(bind_ip, bind_port, &src);
      } else {
        src_len = ParseAddr(family == AF_INET ? "0.0.0.0" : "::", bind_port, &src);
      }
      if (src_len == 0 || src.sa.sa_family != family) {
        err = EINVAL;
      } else {
        // Without a source port, let connect() pick it (per destination) instead of bind().
        int one = 1;
        if (bind_port == 0) setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(fd, &src.sa, src_len) < 0) err = errno;
      }
    }
    if (err != 0) {
      close(fd);
      return Napi::Number::New(env, -err);
    }
    int slot = AllocSlot();
    slots_[slot].fd = fd;
    slots_[slot].family = bound ? 0 : family;
    err = Connect(fd, slot, &dst, dst_len, EPOLL_CTL_ADD);
    if (err != 0) {
      Discard(slot);
      return Napi::Number::New(env, -err);
    }
    return Napi::Number::New(env, Busy(slot));
  }

  // TCP_QUICKACK off (reset by every disconnect), connect, arm the one-shot completion event.
  int Connect(int fd, int slot, const SockAddr* dst, socklen_t dst_len, int op) {
    int zero = 0;
    if (setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof(zero)) < 0) return errno;
    if (connect(fd, &dst->sa, dst_len) < 0 && errno != EINPROGRESS) return errno;
    struct epoll_event ev;
    ev.events = EPOLLOUT | EPOLLONESHOT;  // EPOLLERR and EPOLLHUP are always reported
    ev.data.u64 = static_cast<uint64_t>(slot);
    if (epoll_ctl(epfd_, op, fd, &ev) < 0) return errno;
    return 0;
  }

  int Busy(int slot) {
    slots_[slot].busy = true;
    if (in_flight_++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return slot;
  }

  // Closes a slot's socket and frees the slot.
  void Discard(int slot) {
    Slot& s = slots_[slot];
    if (s.fd >= 0) close(s.fd);
    s.fd = -1;
    s.family = 0;
    s.busy = false;
    free_.push_back(slot);
  }

  // The probe of a slot is over: a pooled socket is disconnected and waits for the next probe, any
  // other socket is closed (with a reset, SO_LINGER 0). With `later`, the slot is listed there to be
  // recycled after the batch, else it can take a probe at once.
  void Release(int slot, std::vector<int>* later) {
    Slot& s = slots_[slot];
    s.busy = false;
    size_t idle = idle4_.size() + idle6_.size();
    if (s.family != 0 && idle < std::max(kMinPool, static_cast<size_t>(in_flight_))) {
      struct sockaddr unspec;
      memset(&unspec, 0, sizeof(unspec));
      unspec.sa_family = AF_UNSPEC;
      if (connect(s.fd, &unspec, sizeof(unspec)) == 0) {
        if (later != nullptr) {
          later->push_back(slot);
        } else {
          (s.family == AF_INET ? idle4_ : idle6_).push_back(slot);
        }
        return;
      }
    }
    close(s.fd);
    s.fd = -1;
    s.family = 0;
    if (later != nullptr) {
      later->push_back(slot);
    } else {
      free_.push_back(slot);
    }
  }

  // Makes a slot released during a batch available again.
  void Recycle(int slot) {
    Slot& s = slots_[slot];
    if (s.fd < 0) {
      free_.push_back(slot);
    } else {
      (s.family == AF_INET ? idle4_ : idle6_).push_back(slot);
    }
  }

  void Cancel(const Napi::CallbackInfo& info) {
    int slot = info[0].As<Napi::Number>().Int32Value();
    if (slot < 0 || static_cast<size_t>(slot) >= slots_.size() || !slots_[slot].busy) return;
    Slot& s = slots_[slot];
    if (s.family != 0) {
      // Disarm first: the disconnected socket is writable at once, and the event would be stale.
      struct epoll_event ev;
      ev.events = 0;
      ev.data.u64 = static_cast<uint64_t>(slot);
      epoll_ctl(epfd_, EPOLL_CTL_MOD, s.fd, &ev);
    }
    Release(slot, nullptr);
    Done();
  }

  void Close(const Napi::CallbackInfo& info) { Shutdown(); }

  Napi::Value InFlight(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), in_flight_); }

  Napi::Value Idle(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(idle4_.size() + idle6_.size()));
  }

  int AllocSlot() {
    if (!free_.empty()) {
      int slot = free_.back();
      free_.pop_back();
      return slot;
    }
    slots_.emplace_back();
    return static_cast<int>(slots_.size() - 1);
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
      if (static_cast<size_t>(slot) >= slots_.size() || !slots_[slot].busy) continue;
      // Writable without an error or hangup: connected (SO_ERROR is 0), no syscall needed to ask.
      int so_error = 0;
      if (evs[i].events != EPOLLOUT) {
        socklen_t len = sizeof(so_error);
        if (getsockopt(slots_[slot].fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0) so_error = errno;
        if (so_error == 0 && !(evs[i].events & EPOLLOUT)) so_error = ECONNRESET;
      }
      Release(slot, &reported);  // a reset when connected: by disconnect, or close with SO_LINGER 0
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
      for (int slot : reported) Recycle(slot);
    }
  }

  void Shutdown() {
    for (Slot& s : slots_) {
      if (s.fd >= 0) close(s.fd);
    }
    slots_.clear();
    free_.clear();
    idle4_.clear();
    idle6_.clear();
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
  std::vector<Slot> slots_;
  std::vector<int> free_;   // slots without a socket
  std::vector<int> idle4_;  // slots with a pooled IPv4 socket waiting
  std::vector<int> idle6_;
  int in_flight_ = 0;
};

void InitTcpProber(Napi::Env env, Napi::Object target) { target.Set("TcpProber", TcpProber::Define(env)); }

}  // namespace

LBD_MODULE(tcpprobe, InitTcpProber);
