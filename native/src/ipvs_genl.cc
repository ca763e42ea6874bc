#include "ipvs_genl.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace lbd {
namespace ipvs {
namespace {

constexpr size_t kReceiveBuffer = 64 * 1024;  // per datagram: > the kernel's largest dump skb (32 KiB)
constexpr size_t kReceiveSlots = 4;          // datagrams per recvmmsg
constexpr size_t kWindowBytes = 60 * 1024;     // one sendmsg stays under the default socket send buffer
constexpr int kDumpAttempts = 5;

uint16_t Get16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
uint32_t Get32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

nlmsghdr Header(const uint8_t* p) {
  nlmsghdr h;
  std::memcpy(&h, p, sizeof h);
  return h;
}

void SetSeq(uint8_t* msg, uint32_t seq, uint16_t set_flags, uint16_t clear_flags) {
  nlmsghdr h = Header(msg);
  h.nlmsg_seq = seq;
  h.nlmsg_pid = 0;
  h.nlmsg_flags = static_cast<uint16_t>((h.nlmsg_flags | set_flags) & ~clear_flags);
  std::memcpy(msg, &h, sizeof h);
}

bool IsDump(uint16_t flags) { return (flags & NLM_F_DUMP) != 0; }

// Walks the netlink messages of one received datagram, calling f(msg, len, header) for each valid one.
template <typename F>
void ForEachMessage(const uint8_t* buf, size_t len, F f) {
  size_t off = 0;
  while (off + sizeof(nlmsghdr) <= len) {
    nlmsghdr h = Header(buf + off);
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > len - off) return;  // truncated: ignore the rest
    f(buf + off, static_cast<size_t>(h.nlmsg_len), h);
    off += NLMSG_ALIGN(h.nlmsg_len);
  }
}

}  // namespace

bool SplitMessages(const uint8_t* buf, size_t len, std::vector<std::pair<size_t, size_t>>* out) {
  size_t off = 0;
  while (off < len) {
    if (len - off < sizeof(nlmsghdr)) return false;
    nlmsghdr h = Header(buf + off);
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > len - off) return false;
    out->emplace_back(off, h.nlmsg_len);
    size_t next = off + NLMSG_ALIGN(h.nlmsg_len);
    off = next > len ? len : next;
  }
  return true;
}

bool ParseError(const uint8_t* msg, size_t len, int32_t* error, uint32_t* seq, std::string* message) {
  nlmsghdr h = Header(msg);
  if (len < NLMSG_HDRLEN + sizeof(int32_t) + sizeof(nlmsghdr)) return false;
  int32_t e;
  std::memcpy(&e, msg + NLMSG_HDRLEN, sizeof e);
  nlmsghdr orig = Header(msg + NLMSG_HDRLEN + sizeof e);
  *error = -e;
  *seq = orig.nlmsg_seq;
  message->clear();
  if (!(h.nlmsg_flags & NLM_F_ACK_TLVS)) return true;
  // The TLVs follow the echoed request: its header alone when capped, the whole request otherwise.
  size_t echoed = (h.nlmsg_flags & NLM_F_CAPPED) ? sizeof(nlmsghdr) : NLMSG_ALIGN(orig.nlmsg_len);
  size_t off = NLMSG_HDRLEN + sizeof e + echoed;
  while (off + 4 <= len) {
    uint16_t alen = Get16(msg + off);
    uint16_t type = Get16(msg + off + 2) & NLA_TYPE_MASK;
    if (alen < 4 || alen > len - off) break;
    if (type == NLMSGERR_ATTR_MSG && alen > 4) {
      const char* s = reinterpret_cast<const char*>(msg + off + 4);
      message->assign(s, strnlen(s, alen - 4));
    }
    off += NLA_ALIGN(alen);
  }
  return true;
}

GenlSocket::~GenlSocket() { Close(); }

namespace {
// Creates the socket inside another network namespace: this thread enters it, creates the socket and
// returns to its own namespace (setns affects the calling thread only).
int SocketIn(const std::string& netns_path, int* out) {
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return errno;
  int target = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    close(self);
    return e;
  }
  int err = 0;
  if (setns(target, CLONE_NEWNET) != 0) {
    err = errno;
  } else {
    *out = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    if (*out < 0) err = errno;
    if (setns(self, CLONE_NEWNET) != 0) abort();  // cannot leave node's thread in a foreign namespace
  }
  close(target);
  close(self);
  return err;
}
}  // namespace

int GenlSocket::Open(const std::string& netns_path) {
  if (fd_ >= 0) return 0;
  int fd = -1;
  if (netns_path.empty()) {
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    if (fd < 0) return errno;
  } else {
    int err = SocketIn(netns_path, &fd);
    if (err != 0) return err;
  }
  int one = 1;
  // Extended ACKs carry the kernel's error text; capped ACKs do not echo whole requests back.
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  int rcv = 4 * 1024 * 1024;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  }
  int snd = 1024 * 1024;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof snd) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    int e = errno;
    close(fd);
    return e;
  }
  socklen_t alen = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &alen) != 0) {
    int e = errno;
    close(fd);
    return e;
  }
  fd_ = fd;
  port_id_ = local.nl_pid;
  rbuf_.resize(kReceiveBuffer * kReceiveSlots);
  rlens_.resize(kReceiveSlots);
  return 0;
}

void GenlSocket::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

int GenlSocket::SendAll(const uint8_t* buf, size_t len) {
  if (fd_ < 0) return EBADF;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  while (true) {
    ssize_t n = sendto(fd_, buf, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    if (n >= 0) return static_cast<size_t>(n) == len ? 0 : EMSGSIZE;
    if (errno != EINTR) return errno;
  }
}

long GenlSocket::Receive() {
  if (fd_ < 0) return -EBADF;
  if (timeout_ms != applied_timeout_ms_) {
    // A blocking receive with SO_RCVTIMEO: no poll before each receive.
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    applied_timeout_ms_ = timeout_ms;
  }
  // recvmmsg waits for one datagram, then takes those already queued: a dump's next part (or its
  // NLMSG_DONE) is queued while the previous one is received, so one call usually gets both.
  mmsghdr msgs[kReceiveSlots];
  iovec iov[kReceiveSlots];
  std::memset(msgs, 0, sizeof msgs);
  for (size_t i = 0; i < kReceiveSlots; i++) {
    iov[i].iov_base = rbuf_.data() + i * kReceiveBuffer;
    iov[i].iov_len = kReceiveBuffer;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  while (true) {
    int n = recvmmsg(fd_, msgs, kReceiveSlots, MSG_WAITFORONE | MSG_TRUNC, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return -ETIMEDOUT;
      return -errno;
    }
    for (int i = 0; i < n; i++) {
      if (msgs[i].msg_len > kReceiveBuffer || (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) return -EMSGSIZE;
      rlens_[i] = msgs[i].msg_len;
    }
    return n;
  }
}

int GenlSocket::Exchange(const uint8_t* buf, size_t len, ExchangeResult* out) {
  std::vector<std::pair<size_t, size_t>> msgs;
  if (!SplitMessages(buf, len, &msgs)) return EINVAL;
  out->replies.resize(msgs.size());
  std::vector<uint8_t> req;
  for (size_t i = 0; i < msgs.size(); i++) {
    ReplySpan& span = out->replies[i];
    req.assign(buf + msgs[i].first, buf + msgs[i].first + msgs[i].second);
    const bool dump = IsDump(Header(req.data()).nlmsg_flags);
    for (int attempt = 1;; attempt++) {
      const uint32_t seq = NextSeq();
      // Requests always ask for an ACK, so that their end is known; dumps end with NLMSG_DONE.
      SetSeq(req.data(), seq, NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK), 0);
      const size_t start = out->data.size();
      span = ReplySpan{};
      span.offset = static_cast<uint32_t>(start);
      int err = SendAll(req.data(), req.size());
      if (err != 0) {
        span.error = err;
        break;
      }
      bool done = false, interrupted = false, lost = false;
      uint32_t barrier = 0;
      while (!done) {
        long n = Receive();
        if (n == -ENOBUFS) {
          // A reply was dropped: a NOOP barrier tells whether the end of this request got through.
          lost = true;
          barrier = NextSeq();
          nlmsghdr noop{sizeof(nlmsghdr), NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, barrier, 0};
          if ((err = SendAll(reinterpret_cast<uint8_t*>(&noop), sizeof noop)) != 0) return err;
          continue;
        }
        if (n < 0) return static_cast<int>(-n);
        for (long d = 0; d < n; d++)
        ForEachMessage(Slot(d), rlens_[d], [&](const uint8_t* m, size_t mlen, const nlmsghdr& h) {
          if (h.nlmsg_type == NLMSG_ERROR) {
            int32_t e;
            uint32_t s;
            std::string text;
            if (!ParseError(m, mlen, &e, &s, &text)) return;
            if (s == seq) {
              span.error = e;
              span.message = text;
              done = true;
            } else if (lost && s == barrier) {
              span.error = ENOBUFS;
              span.message = "reply lost: netlink socket receive buffer overrun";
              done = true;
            }
            return;
          }
          if (h.nlmsg_seq != seq) return;  // stale reply of an earlier, abandoned request
          if (h.nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
          if (h.nlmsg_type == NLMSG_DONE) {
            if (mlen >= NLMSG_HDRLEN + 4) {
              int32_t e;
              std::memcpy(&e, m + NLMSG_HDRLEN, 4);
              span.error = -e;
            }
            done = true;
            return;
          }
          if (h.nlmsg_type < NLMSG_MIN_TYPE) return;  // NOOP, OVERRUN
          out->data.insert(out->data.end(), m, m + mlen);
          size_t pad = NLMSG_ALIGN(mlen) - mlen;
          out->data.insert(out->data.end(), pad, 0);
        });
      }
      span.length = static_cast<uint32_t>(out->data.size() - start);
      bool retry = dump && (interrupted || (lost && span.error == ENOBUFS));
      if (!retry) break;
      out->data.resize(start);
      span.length = 0;
      if (attempt >= kDumpAttempts) {
        span.error = interrupted ? EINTR : ENOBUFS;
        span.message = interrupted ? "dump interrupted by concurrent changes, gave up after retries"
                                   : "dump replies lost: netlink socket receive buffer overrun";
        break;
      }
    }
  }
  return 0;
}

int GenlSocket::Batch(const uint8_t* buf, size_t len, size_t window, BatchResult* out) {
  std::vector<std::pair<size_t, size_t>> msgs;
  if (!SplitMessages(buf, len, &msgs)) return EINVAL;
  if (window == 0) window = 1;
  out->errors.assign(msgs.size(), 0);
  out->messages.assign(msgs.size(), std::string());
  std::vector<uint8_t> send;
  send.reserve(kWindowBytes + sizeof(nlmsghdr));
  size_t i = 0;
  while (i < msgs.size()) {
    send.clear();
    const size_t first = i;
    const uint32_t base = seq_ + 1;
    while (i < msgs.size() && i - first < window &&
           (i == first || send.size() + NLMSG_ALIGN(msgs[i].second) <= kWindowBytes)) {
      size_t at = send.size();
      send.insert(send.end(), buf + msgs[i].first, buf + msgs[i].first + msgs[i].second);
      send.resize(at + NLMSG_ALIGN(msgs[i].second), 0);
      // No per-message ACK: the kernel only answers failures; the barrier below closes the window.
      SetSeq(send.data() + at, NextSeq(), NLM_F_REQUEST, NLM_F_ACK);
      i++;
    }
    const size_t count = i - first;
    uint32_t barrier = NextSeq();
    nlmsghdr noop{sizeof(nlmsghdr), NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, barrier, 0};
    const uint8_t* np = reinterpret_cast<const uint8_t*>(&noop);
    send.insert(send.end(), np, np + sizeof noop);
    out->sends++;
    int err = SendAll(send.data(), send.size());
    if (err != 0) {
      for (size_t k = first; k < i; k++) out->errors[k] = err;
      continue;
    }
    bool done = false, lost = false;
    while (!done) {
      long n = Receive();
      if (n == -ENOBUFS) {
        lost = true;
        barrier = NextSeq();
        noop.nlmsg_seq = barrier;
        if ((err = SendAll(np, sizeof noop)) != 0) return err;
        continue;
      }
      if (n < 0) {
        for (size_t k = first; k < msgs.size(); k++) {
          if (k >= i || out->errors[k] == 0) out->errors[k] = static_cast<int32_t>(-n);
        }
        return static_cast<int>(-n);
      }
      for (long d = 0; d < n; d++)
      ForEachMessage(Slot(d), rlens_[d], [&](const uint8_t* m, size_t mlen, const nlmsghdr& h) {
        if (h.nlmsg_type != NLMSG_ERROR) return;
        int32_t e;
        uint32_t s;
        std::string text;
        if (!ParseError(m, mlen, &e, &s, &text)) return;
        if (s == barrier) {
          done = true;
        } else if (s - base < count) {
          out->errors[first + (s - base)] = e;
          if (e != 0) out->messages[first + (s - base)] = text;
        }
      });
    }
    if (lost) {
      // Some answers of this window were dropped: operations without one have an unknown outcome.
      for (size_t k = first; k < i; k++) {
        if (out->errors[k] == 0) {
          out->errors[k] = ENOBUFS;
          out->messages[k] = "outcome unknown: reply lost to a netlink socket receive buffer overrun";
        }
      }
    }
  }
  return 0;
}

int GenlSocket::ResolveFamily(const std::string& name, FamilyInfo* out, std::string* message) {
  // nlctrl CTRL_CMD_GETFAMILY with CTRL_ATTR_FAMILY_NAME.
  std::vector<uint8_t> msg(NLMSG_HDRLEN + GENL_HDRLEN);
  const uint16_t alen = static_cast<uint16_t>(NLA_HDRLEN + name.size() + 1);
  msg.resize(msg.size() + NLA_ALIGN(alen), 0);
  nlmsghdr h{static_cast<uint32_t>(msg.size()), GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, 0, 0};
  std::memcpy(msg.data(), &h, sizeof h);
  genlmsghdr g{CTRL_CMD_GETFAMILY, 1, 0};
  std::memcpy(msg.data() + NLMSG_HDRLEN, &g, sizeof g);
  uint8_t* a = msg.data() + NLMSG_HDRLEN + GENL_HDRLEN;
  uint16_t atype = CTRL_ATTR_FAMILY_NAME;
  std::memcpy(a, &alen, 2);
  std::memcpy(a + 2, &atype, 2);
  std::memcpy(a + NLA_HDRLEN, name.c_str(), name.size() + 1);
  ExchangeResult r;
  int err = Exchange(msg.data(), msg.size(), &r);
  if (err != 0) return err;
  if (r.replies.size() != 1) return EPROTO;
  *message = r.replies[0].message;
  if (r.replies[0].error != 0) return r.replies[0].error;
  bool found = false;
  ForEachMessage(r.data.data(), r.data.size(), [&](const uint8_t* m, size_t mlen, const nlmsghdr&) {
    size_t off = NLMSG_HDRLEN + GENL_HDRLEN;
    while (off + NLA_HDRLEN <= mlen) {
      uint16_t l = Get16(m + off);
      uint16_t t = Get16(m + off + 2) & NLA_TYPE_MASK;
      if (l < NLA_HDRLEN || l > mlen - off) break;
      if (t == CTRL_ATTR_FAMILY_ID && l >= NLA_HDRLEN + 2) {
        out->id = Get16(m + off + NLA_HDRLEN);
        found = true;
      } else if (t == CTRL_ATTR_VERSION && l >= NLA_HDRLEN + 4) {
        out->version = Get32(m + off + NLA_HDRLEN);
      } else if (t == CTRL_ATTR_MAXATTR && l >= NLA_HDRLEN + 4) {
        out->max_attr = Get32(m + off + NLA_HDRLEN);
      }
      off += NLA_ALIGN(l);
    }
  });
  return found ? 0 : EPROTO;
}

}  // namespace ipvs
}  // namespace lbd
