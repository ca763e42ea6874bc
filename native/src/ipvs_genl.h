// Generic netlink transport for the IPVS family: a blocking NETLINK_GENERIC socket driven from a worker
// thread (never from node's event loop). Messages are encoded and decoded by the TypeScript side; this
// layer resolves families through nlctrl, stamps sequence numbers, matches replies to requests, collects
// multipart dumps (retrying interrupted ones), pipelines batches and decodes errors with extended ACKs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lbd {
namespace ipvs {

// The reply of one request: the data messages it produced (netlink headers included, concatenated in
// `Exchange::data` at [offset, offset + length)), its errno (0 on success) and the kernel's extended ACK text.
struct ReplySpan {
  uint32_t offset = 0;
  uint32_t length = 0;
  int32_t error = 0;
  std::string message;
};

struct ExchangeResult {
  std::vector<uint8_t> data;
  std::vector<ReplySpan> replies;
};

// One result per operation of a batch: errno (0 = done) and the extended ACK text of failures.
struct BatchResult {
  std::vector<int32_t> errors;
  std::vector<std::string> messages;
  uint32_t sends = 0;  // sendmsg calls made (windows)
};

struct FamilyInfo {
  uint16_t id = 0;
  uint32_t version = 0;
  uint32_t max_attr = 0;
};

// Splits a buffer of concatenated netlink messages; false when a header is malformed or overruns.
bool SplitMessages(const uint8_t* buf, size_t len, std::vector<std::pair<size_t, size_t>>* out);

class GenlSocket {
 public:
  GenlSocket() = default;
  ~GenlSocket();
  GenlSocket(const GenlSocket&) = delete;
  GenlSocket& operator=(const GenlSocket&) = delete;

  // Opens and binds the socket, in the network namespace at `netns_path` when not empty (e.g.
  // /run/netns/NAME: the socket stays in that namespace); returns 0 or an errno.
  int Open(const std::string& netns_path = std::string());
  void Close();
  bool IsOpen() const { return fd_ >= 0; }
  uint32_t PortId() const { return port_id_; }

  // CTRL_CMD_GETFAMILY for `name`; returns 0 or an errno (ENOENT: no such family).
  int ResolveFamily(const std::string& name, FamilyInfo* out, std::string* message);

  // Runs the messages one after the other: each one's replies are collected until its ACK/error
  // (requests) or NLMSG_DONE (dumps, retried on NLM_F_DUMP_INTR). Returns 0 or a transport errno.
  int Exchange(const uint8_t* buf, size_t len, ExchangeResult* out);

  // Sends the messages pipelined, `window` messages per sendmsg without per-message ACKs, followed by
  // a NOOP barrier whose ACK proves that every earlier message was processed. Returns 0 or an errno.
  int Batch(const uint8_t* buf, size_t len, size_t window, BatchResult* out);

  // Milliseconds a receive may wait for the kernel before failing with ETIMEDOUT.
  int timeout_ms = 30000;

 private:
  int SendAll(const uint8_t* buf, size_t len);
  // Receives the queued datagrams (at least one, waiting up to timeout_ms) into the slots of rbuf_;
  // returns how many (lengths in rlens_) or -errno.
  long Receive();
  const uint8_t* Slot(long i) const { return rbuf_.data() + static_cast<size_t>(i) * (rbuf_.size() / rlens_.size()); }
  uint32_t NextSeq() { return ++seq_ == 0 ? ++seq_ : seq_; }

  int fd_ = -1;
  uint32_t port_id_ = 0;
  uint32_t seq_ = 0;
  int applied_timeout_ms_ = -1;
  std::vector<uint8_t> rbuf_;
  std::vector<size_t> rlens_;
};

// Parses an NLMSG_ERROR message (header included): errno (positive, 0 for an ACK), the sequence number
// of the request it answers and the extended ACK message. False when truncated.
bool ParseError(const uint8_t* msg, size_t len, int32_t* error, uint32_t* seq, std::string* message);

}  // namespace ipvs
}  // namespace lbd
