// VRRP sockets for lbd: raw IPv4 / IPv6 sockets for protocol 112 bound to one interface, joined to
// 224.0.0.18 / ff02::12 there, TTL / hop limit 255, each packet delivered with its arrival ifindex and
// TTL / hop limit, readiness through uv_poll on node's own loop (no polling thread, no timer).
// Also an AF_PACKET sender for gratuitous ARP and unsolicited neighbour advertisements.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <string>

#include "registry.h"

namespace lbd {
namespace {

constexpr int kVrrpProto = 112;

std::string AddrText(int family, const void* addr) {
  char buf[INET6_ADDRSTRLEN] = {0};
  inet_ntop(family, addr, buf, sizeof buf);
  return buf;
}

Napi::Value ThrowErrno(Napi::Env env, const char* what, int err) {
  Napi::Error e = Napi::Error::New(env, std::string(what) + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

class VrrpSocket : public Napi::ObjectWrap<VrrpSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "VrrpSocket",
                       {InstanceMethod("send", &VrrpSocket::Send), InstanceMethod("close", &VrrpSocket::Close),
                        InstanceAccessor("ifindex", &VrrpSocket::IfIndex, nullptr),
                        InstanceAccessor("fd", &VrrpSocket::Fd, nullptr)});
  }

  // new VrrpSocket({family, ifname, multicast}, onPacket(data, src, dst, ifindex, ttl))
  explicit VrrpSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VrrpSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "VrrpSocket(options, onPacket)").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    family_ = o.Get("family").ToNumber().Int32Value() == 6 ? AF_INET6 : AF_INET;
    std::string ifname = o.Get("ifname").ToString().Utf8Value();
    bool multicast = o.Get("multicast").ToBoolean().Value();
    ifindex_ = if_nametoindex(ifname.c_str());
    if (ifindex_ == 0) {
      ThrowErrno(env, ("no interface " + ifname).c_str(), errno);
      return;
    }
    fd_ = socket(family_, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, kVrrpProto);
    if (fd_ < 0) {
      ThrowErrno(env, "socket", errno);
      return;
    }
    int one = 1, zero = 0, ttl = 255, tos = 0xc0;
    bool ok = setsockopt(fd_, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), ifname.size()) == 0;
    if (family_ == AF_INET) {
      ok = ok && setsockopt(fd_, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) == 0;
      ok = ok && setsockopt(fd_, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) == 0;
      ok = ok && setsockopt(fd_, IPPROTO_IP, IP_RECVTTL, &one, sizeof one) == 0;
      ok = ok && setsockopt(fd_, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) == 0;
      ok = ok && setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) == 0;
      ok = ok && setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof zero) == 0;
      ok = ok && setsockopt(fd_, IPPROTO_IP, IP_TOS, &tos, sizeof tos) == 0;
      struct ip_mreqn mr;
      memset(&mr, 0, sizeof mr);
      mr.imr_ifindex = ifindex_;
      ok = ok && setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof mr) == 0;
      if (ok && multicast) {
        inet_pton(AF_INET, "224.0.0.18", &mr.imr_multiaddr);
        ok = setsockopt(fd_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr) == 0;
      }
    } else {
      int idx = ifindex_;
      ok = ok && setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) == 0;
      ok = ok && setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one) == 0;
      ok = ok && setsockopt(fd_, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl) == 0;
      ok = ok && setsockopt(fd_, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl) == 0;
      ok = ok && setsockopt(fd_, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof zero) == 0;
      ok = ok && setsockopt(fd_, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos) == 0;
      ok = ok && setsockopt(fd_, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx) == 0;
      if (ok && multicast) {
        struct ipv6_mreq mr;
        memset(&mr, 0, sizeof mr);
        inet_pton(AF_INET6, "ff02::12", &mr.ipv6mr_multiaddr);
        mr.ipv6mr_interface = ifindex_;
        ok = setsockopt(fd_, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mr, sizeof mr) == 0;
      }
    }
    if (!ok) {
      int err = errno;
      ::close(fd_);
      fd_ = -1;
      ThrowErrno(env, "setsockopt", err);
      return;
    }
    onPacket_ = Napi::Persistent(info[1].As<Napi::Function>());
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    uv_poll_init(loop, poll_, fd_);
    poll_->data = this;
    uv_poll_start(poll_, UV_READABLE, &VrrpSocket::OnReadable);
    Ref();  // alive while open, whatever JS holds
  }

  ~VrrpSocket() override { Shutdown(); }

 private:
  static void OnReadable(uv_poll_t* h, int status, int events) {
    auto* self = static_cast<VrrpSocket*>(h->data);
    if (self != nullptr && status >= 0) self->Drain();
  }

  void Drain() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    // Bounded so one flood cannot starve the loop; the poll fires again if more is queued.
    for (int n = 0; n < 256 && fd_ >= 0; n++) {
      unsigned char buf[65536];
      struct sockaddr_storage from;
      alignas(struct cmsghdr) unsigned char ctrl[256];
      struct iovec iov = {buf, sizeof buf};
      struct msghdr m;
      memset(&m, 0, sizeof m);
      m.msg_name = &from;
      m.msg_namelen = sizeof from;
      m.msg_iov = &iov;
      m.msg_iovlen = 1;
      m.msg_control = ctrl;
      m.msg_controllen = sizeof ctrl;
      ssize_t len = recvmsg(fd_, &m, MSG_DONTWAIT);
      if (len < 0) break;
      int ifindex = 0, ttl = -1;
      std::string src, dst;
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          struct in_pktinfo pi;
          memcpy(&pi, CMSG_DATA(c), sizeof pi);
          ifindex = pi.ipi_ifindex;
          dst = AddrText(AF_INET, &pi.ipi_addr);
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
          memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
          struct in6_pktinfo pi;
          memcpy(&pi, CMSG_DATA(c), sizeof pi);
          ifindex = pi.ipi6_ifindex;
          dst = AddrText(AF_INET6, &pi.ipi6_addr);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
          memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
        }
      }
      if (from.ss_family == AF_INET) {
        src = AddrText(AF_INET, &reinterpret_cast<struct sockaddr_in*>(&from)->sin_addr);
      } else if (from.ss_family == AF_INET6) {
        src = AddrText(AF_INET6, &reinterpret_cast<struct sockaddr_in6*>(&from)->sin6_addr);
      }
      napi_value args[] = {Napi::Buffer<unsigned char>::Copy(env, buf, len), Napi::String::New(env, src),
                           Napi::String::New(env, dst), Napi::Number::New(env, ifindex),
                           Napi::Number::New(env, ttl)};
      onPacket_.MakeCallback(env.Global(), 5, args);
      if (env.IsExceptionPending()) {
        Napi::Error e = env.GetAndClearPendingException();
        napi_fatal_exception(env, e.Value());
        break;
      }
    }
  }

  // send(data, dst[, src]): IPv4 data is a whole packet (IP_HDRINCL); IPv6 data is the VRRP message,
  // sent from src (IPV6_PKTINFO) on the bound interface. Returns 0 or an errno.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return Napi::Number::New(env, EBADF);
    if (info.Length() < 2 || !info[0].IsBuffer() || !info[1].IsString()) {
      Napi::TypeError::New(env, "send(buffer, dst[, src])").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto data = info[0].As<Napi::Buffer<unsigned char>>();
    std::string dst = info[1].As<Napi::String>().Utf8Value();
    struct iovec iov = {data.Data(), data.Length()};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    alignas(struct cmsghdr) unsigned char ctrl[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    if (family_ == AF_INET) {
      memset(&sin, 0, sizeof sin);
      sin.sin_family = AF_INET;
      if (inet_pton(AF_INET, dst.c_str(), &sin.sin_addr) != 1) return Napi::Number::New(env, EINVAL);
      m.msg_name = &sin;
      m.msg_namelen = sizeof sin;
    } else {
      memset(&sin6, 0, sizeof sin6);
      sin6.sin6_family = AF_INET6;
      if (inet_pton(AF_INET6, dst.c_str(), &sin6.sin6_addr) != 1) return Napi::Number::New(env, EINVAL);
      sin6.sin6_scope_id = ifindex_;
      m.msg_name = &sin6;
      m.msg_namelen = sizeof sin6;
      if (info.Length() > 2 && info[2].IsString()) {
        std::string src = info[2].As<Napi::String>().Utf8Value();
        memset(ctrl, 0, sizeof ctrl);
        m.msg_control = ctrl;
        m.msg_controllen = sizeof ctrl;
        struct cmsghdr* c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
        struct in6_pktinfo pi;
        memset(&pi, 0, sizeof pi);
        if (inet_pton(AF_INET6, src.c_str(), &pi.ipi6_addr) != 1) return Napi::Number::New(env, EINVAL);
        pi.ipi6_ifindex = ifindex_;
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
      }
    }
    ssize_t r = sendmsg(fd_, &m, MSG_DONTWAIT);
    return Napi::Number::New(env, r < 0 ? errno : 0);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    bool wasOpen = fd_ >= 0;
    Shutdown();
    if (wasOpen) Unref();
    return info.Env().Undefined();
  }

  Napi::Value IfIndex(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ifindex_); }
  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }

  void Shutdown() {
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (!onPacket_.IsEmpty()) onPacket_.Reset();
  }

  int family_ = AF_INET;
  int fd_ = -1;
  unsigned ifindex_ = 0;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference onPacket_;
};

int packetFd = -1;

// sendFrame(ifindex, frame): sends a whole Ethernet frame (gratuitous ARP, unsolicited NA). 0 or errno.
Napi::Value SendFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBuffer()) {
    Napi::TypeError::New(env, "sendFrame(ifindex, frame)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto frame = info[1].As<Napi::Buffer<unsigned char>>();
  if (frame.Length() < 14) return Napi::Number::New(env, EINVAL);
  if (packetFd < 0) {
    packetFd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);  // protocol 0: sends only, receives nothing
    if (packetFd < 0) return Napi::Number::New(env, errno);
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = info[0].As<Napi::Number>().Int32Value();
  memcpy(&sll.sll_protocol, frame.Data() + 12, 2);
  sll.sll_halen = ETH_ALEN;
  memcpy(sll.sll_addr, frame.Data(), ETH_ALEN);
  ssize_t r = sendto(packetFd, frame.Data(), frame.Length(), MSG_DONTWAIT, reinterpret_cast<struct sockaddr*>(&sll),
                     sizeof sll);
  return Napi::Number::New(env, r < 0 ? errno : 0);
}

Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  std::string name = info[0].ToString().Utf8Value();
  return Napi::Number::New(info.Env(), if_nametoindex(name.c_str()));
}

void InitVrrp(Napi::Env env, Napi::Object target) {
  target.Set("VrrpSocket", VrrpSocket::Define(env));
  target.Set("sendFrame", Napi::Function::New(env, SendFrame, "sendFrame"));
  target.Set("ifNameToIndex", Napi::Function::New(env, IfNameToIndex, "ifNameToIndex"));
}

}  // namespace

LBD_MODULE(vrrp, InitVrrp);
}  // namespace lbd
